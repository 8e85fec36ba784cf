-- GET the URL's path, each request with the next session cookie from a file: the form
-- behind an opened reset link, the page of a sign-in waiting for its second factor.
-- Arguments: the file of cookies (`session=...`, one per line), the number of wrk threads.
-- Thread n takes cookies n, n + threads, n + 2 * threads, ... so no two threads repeat
-- each other; the cookies start over only when the file is used up. The requests are
-- formatted once, in init, with any -H headers too.
local next_thread_id = 1

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

local requests = {}
local position
local step

function init(args)
  for line in io.lines(args[1]) do
    local headers = {}
    for name, value in pairs(wrk.headers) do
      headers[name] = value
    end
    headers["Cookie"] = line
    requests[#requests + 1] = wrk.format("GET", wrk.path, headers)
  end
  step = tonumber(args[2])
  position = thread_id
end

function request()
  local text = requests[position]
  position = position + step
  if position > #requests then
    position = thread_id
  end
  return text
end
