-- A mix of what a busy desk does: technicians list queues and open tickets, requesters open their own.
-- Token and ticket numbers come from the environment (bench/load.sh sets them).
local token = os.getenv("SD_TOKEN")
local first = tonumber(os.getenv("SD_FIRST_TICKET"))
local count = tonumber(os.getenv("SD_TICKETS"))
local paths = {
  "/api/v1/tickets?status=open&status=new",
  "/api/v1/tickets?assignee=none&status=new",
  "/api/v1/tickets?q=printer",
  "/api/v1/me",
}
local n = 0
request = function()
  n = n + 1
  local path
  if n % 3 == 0 then
    path = "/api/v1/tickets/" .. (first + (n * 7919) % count)
  else
    path = paths[(n % #paths) + 1]
  end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

done = function(summary, latency, requests)
  io.write(string.format("requests=%d errors_status=%d errors_socket=%d p50_ms=%.1f p99_ms=%.1f rps=%.1f\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
