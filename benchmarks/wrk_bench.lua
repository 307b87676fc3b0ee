-- wrk script used by benchmarks/bench.py.
--
--   wrk ... -s wrk_bench.lua http://127.0.0.1:PORT -- post SLUGS_FILE [ORIGIN]
--   wrk ... -s wrk_bench.lua http://127.0.0.1:PORT -- get  /api/pages/SLUG/comments
--
-- "post" sends a JSON comment to a random page named in SLUGS_FILE (one slug a
-- line) on every request; "get" asks for the same path every time.
-- Every thread counts the responses that are not 2xx (wrk's own
-- "Non-2xx or 3xx" line lets 3xx pass); done() prints one machine-readable
-- line starting with BENCH_JSON that bench.py reads.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local bodies = {
  "I walk this way every day and the change would help a lot. Please keep the "
    .. "footpath open while the work is done, and tell us the dates early.",
  "Good idea overall, but the cost looks high. Could the town share the numbers "
    .. "behind it? **Transparency** matters more than speed here.",
  "Two things:\n\n- more benches near the stops\n- better lighting in winter\n\n"
    .. "Both are cheap and make a real difference for older residents.",
  "We discussed this at our residents' meeting last week. Most of us support it "
    .. "if the evening service stays as it is now.",
}

function init(args)
  mode = args[1] or "get"
  counter = 0
  non2xx = 0
  math.randomseed(id * 7919 + os.time())
  if mode == "post" then
    slugs = {}
    local file = assert(io.open(args[2], "r"))
    for line in file:lines() do
      if #line > 0 then table.insert(slugs, line) end
    end
    file:close()
    assert(#slugs > 0, "no slugs in " .. args[2])
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Accept"] = "application/json"
    if args[3] and #args[3] > 0 then wrk.headers["Origin"] = args[3] end
  else
    get_path = args[2]
    wrk.headers["Accept"] = "application/json"
  end
end

function request()
  counter = counter + 1
  if mode == "post" then
    local slug = slugs[math.random(#slugs)]
    local text = bodies[counter % #bodies + 1]
    local body = string.format(
      '{"author":"Bench reader %d-%d","body":"%s (note %d)"}',
      id, counter, text:gsub("\n", "\\n"), counter)
    return wrk.format("POST", "/api/pages/" .. slug .. "/comments", nil, body)
  end
  return wrk.format("GET", get_path)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,'
      .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,'
      .. '"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,'
      .. '"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
