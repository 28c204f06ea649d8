-- wrk script for benches/replicas.sh: POSTs BODY_FILE with a bearer token taken in turn from
-- TOKENS_FILE (one per line), so the writes spread over that many users. Prints one Markdown
-- row like wrk_report.lua.
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
local f = assert(io.open(os.getenv("BODY_FILE")))
local body = f:read("*a")
f:close()
local i = 0

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  bad = 0
  i = math.random(#tokens)
end
function request()
  i = i % #tokens + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[i]}, body)
end
function response(status, headers, body)
  if status >= 400 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("%.1f %.2f %.2f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, total))
end
