-- One endpoint under load. Configured by the environment (bench/run.py sets it):
--   SD_METHOD, SD_PATH ("{n}" becomes a ticket number in [SD_FIRST, SD_LAST]), SD_AUTH (an Authorization
--   header value) or SD_COOKIE, SD_BODY ("{i}" becomes a per-request counter), SD_CONTENT_TYPE,
--   SD_USER_AGENT (the one the session cookie was signed in with).
local method = os.getenv("SD_METHOD") or "GET"
local path = os.getenv("SD_PATH")
local first = tonumber(os.getenv("SD_FIRST") or "1001")
local last = tonumber(os.getenv("SD_LAST") or "1001")
local headers = {}
headers["User-Agent"] = os.getenv("SD_USER_AGENT") or "wrk"
if os.getenv("SD_AUTH") then headers["Authorization"] = os.getenv("SD_AUTH") end
if os.getenv("SD_COOKIE") then headers["Cookie"] = os.getenv("SD_COOKIE") end
if os.getenv("SD_CONTENT_TYPE") then headers["Content-Type"] = os.getenv("SD_CONTENT_TYPE") end
local body = os.getenv("SD_BODY")
local counter = 0

local threads = {}
setup = function(thread)
  thread:set("id", math.random(1, 1000000))
  table.insert(threads, thread)
end

-- Refused and failed answers by status, so a run's errors say what they were.
failures = {}
response = function(status, headers, body)
  if status >= 400 then failures[status] = (failures[status] or 0) + 1 end
end

request = function()
  counter = counter + 1
  local p = path:gsub("{n}", tostring(math.random(first, last)))
  local b = nil
  if body then b = body:gsub("{i}", tostring(id) .. "-" .. tostring(counter)) end
  return wrk.format(method, p, headers, b)
end

done = function(summary, latency, requests)
  local counts, statuses = {}, {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("failures")) do counts[status] = (counts[status] or 0) + count end
  end
  for status, count in pairs(counts) do table.insert(statuses, string.format('"%d": %d', status, count)) end
  io.write(string.format('{"statuses": {%s}, "requests": %d, "seconds": %.3f, "non_2xx_3xx": %d, "socket_errors": %d, "p50_ms": %.2f, "p99_ms": %.2f, "rps": %.1f}\n',
    table.concat(statuses, ", "), summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
