-- wrk script for the static-file ceiling in benches/load.sh: no per-response callback (so the
-- client costs the same against nginx and against us). Environment: NAME (row label), INM
-- (If-None-Match). Prints one Markdown row: rate, p50/p99 in ms, and errors (status >= 400
-- plus socket errors).
local inm = os.getenv("INM")
if inm and inm ~= "" then wrk.headers["If-None-Match"] = inm end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("| %s | %.0f req/s | %.2f | %.2f | %d |\n", os.getenv("NAME"),
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout + e.status))
end
