-- wrk script for benches/load.sh. Environment: NAME (row label), METHOD, BODY_FILE (JSON body),
-- TOKEN (bearer), INM (If-None-Match). Prints one Markdown row: rate, p50/p99 in ms, and errors
-- (HTTP 4xx/5xx plus socket errors), counted across all threads.
wrk.method = os.getenv("METHOD") or "GET"
local body_file = os.getenv("BODY_FILE")
if body_file then
  local f = assert(io.open(body_file))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end
if os.getenv("TOKEN") then wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN") end
if os.getenv("INM") then wrk.headers["If-None-Match"] = os.getenv("INM") end

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status >= 400 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("| %s | %.0f req/s | %.2f | %.2f | %d |\n", os.getenv("NAME"),
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, total))
end
