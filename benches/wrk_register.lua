-- wrk script for benches/registration_flood.sh: every request registers a new account (a unique
-- email per thread and request), so each one is hashed with argon2. Prints one Markdown row:
-- rate, p50/p99 in ms, and how many answers were 201, 503 (the hashing queue full) and other.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args) n, created, busy, other = 0, 0, 0, 0 end
function request()
  n = n + 1
  return wrk.format(nil, nil, nil,
    string.format('{"email": "flood-%d-%d@example.com", "password": "calves of steel 2026"}', id, n))
end
function response(status, headers, body)
  if status == 201 then created = created + 1 elseif status == 503 then busy = busy + 1 else
    other = other + 1
    if other <= 2 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
  end
end
function done(summary, latency, requests)
  local c, b, o = 0, 0, 0
  for _, t in ipairs(threads) do c = c + t:get("created"); b = b + t:get("busy"); o = o + t:get("other") end
  io.write(string.format("| %s | %.0f req/s | %.2f | %.2f | 201: %d, 503: %d, other: %d |\n", os.getenv("NAME"),
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, c, b, o))
end
