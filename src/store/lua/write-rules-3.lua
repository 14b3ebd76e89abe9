--[[
  Writes rules with their duplicate check, indexes and change records, all or nothing per call.

  KEYS[1] rule id counter   KEYS[2] change stream   KEYS[3] version key
  ARGV[1] tenant key prefix ARGV[2] duplicate mode: reject | skip | override
  ARGV[3] emit changes: 1 (one stream entry per rule) | 0 (bulk: the caller publishes a reload)
  ARGV[4] stream MAXLEN (approximate)
  ARGV[5..] pairs: id (0 = new rule), encoded rule (src/store/rule-codec.ts)

  Output: { version, status1, id1, status2, id2, ... } where status is
     1 created   2 updated   3 replaced the duplicate (id = the duplicate's id, kept)
     0 skipped: a duplicate exists (id = its id)   -1 rejected: a duplicate exists (id = its id)
    -2 not found: no rule with the given id        -3 id space exhausted
  version is the last change id written, or '' when none was.
]]
local P = ARGV[1]
local STREAM = KEYS[2]
local VERSION_KEY = KEYS[3]
local MAXLEN = ARGV[4]
local mode = ARGV[2]
local emit = ARGV[3] == '1'

--- @include "rule-index"
--- @include "change"

local out = { '' }
local version = ''
for i = 5, #ARGV, 2 do
  local id = tonumber(ARGV[i])
  local enc = ARGV[i + 1]
  local f = ruleFields(enc)
  local cond = ruleConditions(enc, f)
  local dup, side, ids, key, leaf = findDuplicate(f, cond, id, nil)
  local exists = id == 0 or redis.call('HEXISTS', ruleKey(id), id) == 1
  local status = nil
  if not exists then
    status = -2
  elseif dup and mode == 'reject' then
    status, id = -1, dup
  elseif dup and mode == 'skip' then
    status, id = 0, dup
  else
    local deleted = nil
    if dup and id == 0 then
      id, status = dup, 3
    elseif dup then
      ruleRemove(dup)
      deleted = dup
    end
    if id == 0 then
      id = redis.call('INCR', KEYS[1])
      status = 1
      if id > 4294967295 then status = -3 end
    elseif status == nil then
      status = 2
    end
    if status > 0 then
      if status ~= 1 then
        local old = redis.call('HGET', ruleKey(id), id)
        if old then indexRemove(id, ruleFields(old)) end
      end
      redis.call('HSET', ruleKey(id), id, enc)
      -- The ids read by the duplicate check are still current unless a duplicate was moved; its
      -- bucket is (removals never move a text).
      local known = nil
      if dup == nil and status == 1 then known = ids or false end
      indexAdd(id, f, side, known, key, leaf)
      if emit then
        if deleted then version = appendChange({ 'op', 'd', 'ids', tostring(deleted) }) end
        version = appendChange({ 'op', 'u', 'id', tostring(id), 'r', enc })
      end
    end
  end
  out[#out + 1] = status
  out[#out + 1] = id
end
out[1] = version
return out
