--[[
  Applies one batch of an import (a contiguous range of file lines) with its duplicate handling,
  indexes, per-row errors and progress counters, all or nothing. The batch is keyed by its line
  range: a batch at or below the progress high-water mark was applied already (a worker resumed
  after a crash) and is not applied twice. No change records: the job publishes one reload at the end.

  KEYS[1] rule id counter   KEYS[2] job progress hash   KEYS[3] job errors list
  ARGV[1] tenant key prefix  ARGV[2] duplicate mode: skip | override
  ARGV[3] first line   ARGV[4] last line   ARGV[5] data rows read in the range
  ARGV[6] error count n   ARGV[7] most errors kept in the list   ARGV[8] track seen ids: 1 | 0
  ARGV[9 .. 8+n] errors as CSV lines   ARGV[9+n ..] encoded rules (src/store/rule-codec.ts)

  Output: { applied (1, or 0 when the range was applied before, -1 when it overlaps the mark),
            imported, skipped }
  Progress hash fields: line (high-water mark), read, imported, skipped, failed.
  Seen ids (overwrite all) go to sets P .. 'job:' .. <job> .. ':seen:' .. (id // 512), named from
  KEYS[2] with ':progress' replaced by ':seen:'.
]]
local P = ARGV[1]
local mode = ARGV[2]
local first = tonumber(ARGV[3])
local last = tonumber(ARGV[4])

--- @include "rule-index"

local mark = tonumber(redis.call('HGET', KEYS[2], 'line') or '0')
if mark >= last then return { 0, 0, 0 } end
if mark >= first then return { -1, 0, 0 } end

local nErr = tonumber(ARGV[6])
if tonumber(redis.call('GET', KEYS[1]) or '0') + (#ARGV - 8 - nErr) > 4294967295 then
  return redis.error_reply('CG_ERR_LIMIT_EXCEEDED the tenant has used up its rule ids')
end
local cap = tonumber(ARGV[7])
local track = ARGV[8] == '1'
local seenPrefix = string.gsub(KEYS[2], ':progress$', ':seen:')
local imported, skipped = 0, 0

local function seen(id)
  if track then redis.call('SADD', seenPrefix .. math.floor(id / 512), id) end
end

-- New rules' ids come from a local counter and their bucket hashes are written once per bucket at
-- the end (the script is atomic either way); indexes go through rule-index.lua as every write does.
local nextId = tonumber(redis.call('GET', KEYS[1]) or '0')
local startId = nextId
local pendingEnc, pendingKeys, pendingOrder = {}, {}, {}

-- Group / type / OU tags of new rules: one SADD per tag bucket at the end instead of one per rule.
-- Keys from tagKeys() in rule-index.lua, as tagAdd() writes them.
local tagIds, tagOrder = {}, {}
local function tagCollect(dim, value, id)
  if value == nil or value == '' then return end
  local key, dir, b = tagKeys(dim, value, id)
  local list = tagIds[key]
  if not list then
    list = { dir = dir, bucket = b }
    tagIds[key] = list
    tagOrder[#tagOrder + 1] = key
  end
  list[#list + 1] = id
end

for i = 9 + nErr, #ARGV do
  local enc = ARGV[i]
  local f = ruleFields(enc)
  local cond = ruleConditions(enc, f)
  local dup, side, ids = findDuplicate(f, cond, nil, pendingEnc)
  if dup and mode == 'skip' then
    skipped = skipped + 1
    seen(dup)
  elseif dup then
    local old = pendingEnc[dup] or redis.call('HGET', ruleKey(dup), dup)
    if old then indexRemove(dup, ruleFields(old)) end
    if pendingEnc[dup] then
      pendingEnc[dup] = enc
    else
      redis.call('HSET', ruleKey(dup), dup, enc)
    end
    indexAdd(dup, f)
    imported = imported + 1
    seen(dup)
  else
    nextId = nextId + 1
    local id = nextId
    pendingEnc[id] = enc
    local key = ruleKey(id)
    local list = pendingKeys[key]
    if not list then
      list = {}
      pendingKeys[key] = list
      pendingOrder[#pendingOrder + 1] = key
    end
    list[#list + 1] = id
    -- The ids the duplicate check read are still current: pass them on instead of reading again.
    if side == 'c' then
      numberAdd('c', f[1], id, ids or false)
      numberAdd('g', f[2], id, nil)
    else
      numberAdd('g', f[2], id, ids or false)
    end
    tagCollect('g', f[4], id)
    tagCollect('t', f[11], id)
    tagCollect('o', f[12], id)
    expiryAdd(f[14], id)
    imported = imported + 1
    seen(id)
  end
end
for _, key in ipairs(pendingOrder) do
  local args = { 'HSET', key }
  for _, id in ipairs(pendingKeys[key]) do
    args[#args + 1] = id
    args[#args + 1] = pendingEnc[id]
  end
  redis.call(unpack(args))
end
for _, key in ipairs(tagOrder) do
  local list = tagIds[key]
  for i = 1, #list, 4000 do
    local args = { 'SADD', key }
    for j = i, math.min(#list, i + 3999) do args[#args + 1] = list[j] end
    redis.call(unpack(args))
  end
  redis.call('SADD', list.dir, list.bucket)
end
if nextId ~= startId then redis.call('SET', KEYS[1], nextId) end

if nErr > 0 then
  local have = redis.call('LLEN', KEYS[3])
  local room = cap - have
  if room > 0 then
    local args = { 'RPUSH', KEYS[3] }
    for i = 9, math.min(8 + nErr, 8 + room) do args[#args + 1] = ARGV[i] end
    if #args > 2 then redis.call(unpack(args)) end
  end
end
redis.call('HSET', KEYS[2], 'line', last)
redis.call('HINCRBY', KEYS[2], 'read', tonumber(ARGV[5]))
redis.call('HINCRBY', KEYS[2], 'imported', imported)
redis.call('HINCRBY', KEYS[2], 'skipped', skipped)
redis.call('HINCRBY', KEYS[2], 'failed', nErr)
return { 1, imported, skipped }
