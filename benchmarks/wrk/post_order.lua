-- POST an order body (as in API.md) with an external id unique per request: "<prefix>-<thread>-<n>".
-- args: path, token, sku, prefix

local path, sku, prefix, headers
local n = 0

function init(args)
  path, sku, prefix = args[1], args[3], args[4]
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[2]}
end

function request()
  n = n + 1
  local body = string.format(
    '{"external_id":"%s-%d-%d","fulfilment":"ship",' ..
    '"customer":{"name":"Anna Nowak","email":"anna@example.com","phone":"+48600100200"},' ..
    '"ship_to":{"line1":"ul. Długa 1","city":"Kraków","postcode":"31-001","country":"PL"},' ..
    '"lines":[{"sku":"%s","qty":1}]}',
    prefix, tid, n, sku)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  count_status(status)
end
