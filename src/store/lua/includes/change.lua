--[[
  Appends one entry to the tenant's change stream, chained to the previous one: field p holds the
  id of the entry before it (0-0 for the first) so a reader notices entries it never saw (trimmed).
  The new id is stored in the version key. Expects locals STREAM, VERSION_KEY, MAXLEN.

  The first append of a script also SPUBLISHes on the stream's shard channel (same name, same slot):
  Redis Cluster nodes wait on these, since one XREAD cannot name streams of several slots. Readers
  run after the script, so one message covers all its appends. Redis 6 (no REDIS_VERSION_NUM, no
  SPUBLISH) skips it: its Cluster nodes notice changes on their periodic read instead.
]]
local announced = false
local function appendChange(fields)
  local prev = redis.call('GET', VERSION_KEY) or '0-0'
  local args = { 'XADD', STREAM, 'MAXLEN', '~', MAXLEN, '*' }
  for i = 1, #fields do args[#args + 1] = fields[i] end
  args[#args + 1] = 'p'
  args[#args + 1] = prev
  local id = redis.call(unpack(args))
  redis.call('SET', VERSION_KEY, id)
  if not announced and redis.REDIS_VERSION_NUM then
    redis.call('SPUBLISH', STREAM, id)
    announced = true
  end
  return id
end
