-- POST a form with the session cookie and CSRF token of one earlier GET; the email
-- changes with each request: body_prefix .. n .. body_suffix for n = 1, 2, ... count.
-- Arguments: path, cookie, body_prefix, body_suffix, count, the number of wrk threads.
local next_thread_id = 1

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

local path, headers, prefix, suffix, count, step, number

function init(args)
  path = args[1]
  headers = {
    ["Cookie"] = args[2],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  prefix = args[3]
  suffix = args[4]
  count = tonumber(args[5])
  step = tonumber(args[6])
  number = thread_id
end

function request()
  local body = prefix .. number .. suffix
  number = number + step
  if number > count then
    number = thread_id
  end
  return wrk.format("POST", path, headers, body)
end
