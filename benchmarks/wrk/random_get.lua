-- GET a path made from a template with a random number in [lo, hi], with a bearer token.
-- args: template (string.format with one %d), lo, hi, token (may be empty)
-- The same script drives the bare endpoint and the WMS, so both pay the same client cost.

local template, lo, hi, headers

function init(args)
  template, lo, hi = args[1], tonumber(args[2]), tonumber(args[3])
  headers = {}
  if args[4] and args[4] ~= "" then
    headers["Authorization"] = "Bearer " .. args[4]
  end
  math.randomseed(7919 * tid + os.time())
end

function request()
  return wrk.format("GET", string.format(template, math.random(lo, hi)), headers)
end

function response(status, headers, body)
  count_status(status)
end
