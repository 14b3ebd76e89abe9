--[[
  Deletes rules whose expiry has passed, oldest expiry hour first, and announces them in one change
  record. Bounded per call so the server is never blocked for long; call again while it returns a
  full batch.

  KEYS[1] expiry directory (sorted set)   KEYS[2] change stream   KEYS[3] version key
  ARGV[1] tenant key prefix   ARGV[2] now (epoch seconds)   ARGV[3] at most this many rules
  ARGV[4] stream MAXLEN (approximate)

  Output: { version ('' when nothing was purged), purged id, ... }
]]
local P = ARGV[1]
local STREAM = KEYS[2]
local VERSION_KEY = KEYS[3]
local MAXLEN = ARGV[4]
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])

--- @include "rule-index"
--- @include "change"

local purged = {}
local buckets = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 64)
for _, member in ipairs(buckets) do
  if #purged >= limit then break end
  local key = P .. 'e:' .. member
  local ids = redis.call('SMEMBERS', key)
  for _, sid in ipairs(ids) do
    if #purged >= limit then break end
    local id = tonumber(sid)
    local enc = redis.call('HGET', ruleKey(id), id)
    if not enc then
      redis.call('SREM', key, sid)
    else
      local f = ruleFields(enc)
      if f[14] ~= nil and f[14] ~= '' and tonumber(f[14], 36) <= now then
        ruleRemove(id)
        purged[#purged + 1] = id
      end
    end
  end
  if redis.call('EXISTS', key) == 0 then redis.call('ZREM', KEYS[1], member) end
end
local version = ''
if #purged > 0 then
  version = appendChange({ 'op', 'd', 'ids', table.concat(purged, ','), 'why', 'expired' })
end
local out = { version }
for i = 1, #purged do out[#out + 1] = purged[i] end
return out
