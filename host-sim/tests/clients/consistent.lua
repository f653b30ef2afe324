-- wrk script for host-sim's reload-under-load test (host-sim/tests/serve.rs): every response must
-- come from one whole route table. Table A sends to api-v1 and sets X-Table: a on the request;
-- table B sends to api-v2 with X-Table: b. A response that is not 200, or that mixes the two,
-- counts as bad. Prints "checked N bad M" at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  checked = 0
  bad = 0
end

function response(status, headers, body)
  checked = checked + 1
  local a = body:find('"name":"api-v1"', 1, true) and body:find('"x-table":"a"', 1, true)
  local b = body:find('"name":"api-v2"', 1, true) and body:find('"x-table":"b"', 1, true)
  if status ~= 200 or not (a or b) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local checked_all, bad_all = 0, 0
  for _, thread in ipairs(threads) do
    checked_all = checked_all + thread:get("checked")
    bad_all = bad_all + thread:get("bad")
  end
  io.write(string.format("checked %d bad %d\n", checked_all, bad_all))
end
