--[[
  Makes a fully written snapshot generation the current one, unless the current one already covers
  a later version. The chunks of the replaced generation expire after a grace period so a reader
  that read the old pointer can still fetch them.

  KEYS[1] snapshot pointer (hash)   KEYS[2] unused, routing only (the generation counter)
  ARGV[1] tenant key prefix   ARGV[2] generation   ARGV[3] version (stream id)   ARGV[4] chunk count
  ARGV[5] total bytes   ARGV[6] createdAt (epoch ms)   ARGV[7] grace seconds for the old chunks

  Output: 1 when flipped, 0 when the current snapshot is as new or newer (the caller drops its chunks)
]]
local function older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

local cur = redis.call('HMGET', KEYS[1], 'gen', 'version', 'chunks')
if cur[2] and not older(cur[2], ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'gen', ARGV[2], 'version', ARGV[3], 'chunks', ARGV[4], 'bytes', ARGV[5],
  'createdAt', ARGV[6])
if cur[1] then
  for i = 0, tonumber(cur[3]) - 1 do
    redis.call('EXPIRE', ARGV[1] .. 'snap:' .. cur[1] .. ':' .. i, tonumber(ARGV[7]))
  end
end
return 1
