-- POST a JSON body without cookies (the JSON API's app mode); the email changes with
-- each request: body_prefix .. n .. body_suffix for n = 1, 2, ... count.
-- Arguments: path, body_prefix, body_suffix, count, the number of wrk threads.
local next_thread_id = 1

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

local path, headers, prefix, suffix, count, step, number

function init(args)
  path = args[1]
  headers = { ["Content-Type"] = "application/json" }
  prefix = args[2]
  suffix = args[3]
  count = tonumber(args[4])
  step = tonumber(args[5])
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
