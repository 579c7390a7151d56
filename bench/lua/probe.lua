-- A paced probe, like a load balancer's health check: one request every BENCH_PROBE_DELAY_MS
-- milliseconds per connection, so that it measures the server's latency, not its throughput.
local pause = tonumber(os.getenv("BENCH_PROBE_DELAY_MS") or "5")

function delay()
  return pause
end

dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
