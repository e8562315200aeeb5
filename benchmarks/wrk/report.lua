-- Shared part of every benchmark script (benchmarks/common.py puts it in front of the script's own part).
-- Gives each wrk thread an id (`tid`), counts response statuses per thread where the script's response()
-- calls count_status(), and prints one machine-readable line at the end: "WRKJSON {...}".

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

counts = {}

function count_status(status)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    if c then
      for status, n in pairs(c) do
        merged[status] = (merged[status] or 0) + n
      end
    end
  end
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status_errors":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ",")))
end
