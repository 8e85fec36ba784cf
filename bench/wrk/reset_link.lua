-- GET /account/reset_password/{code}, a different valid code for each request.
-- Arguments: the file of request paths (one per line), the number of wrk threads.
-- Thread n takes paths n, n + threads, n + 2 * threads, ... so no two threads repeat
-- each other; the paths start over only when the file is used up.
local next_thread_id = 1

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

local paths = {}
local position
local step

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  step = tonumber(args[2])
  position = thread_id
end

function request()
  local path = paths[position]
  position = position + step
  if position > #paths then
    position = thread_id
  end
  return wrk.format("GET", path)
end
