--[[
  Applies one batch of an import (a contiguous range of file lines) with its duplicate handling,
  indexes, per-row errors and progress counters, all or nothing. The batch is keyed by its line
  range: a batch at or below the progress high-water mark was applied already (a worker resumed
  after a crash) and is not applied twice. No change records: the job publishes one reload at the end.

  KEYS[1] rule id counter   KEYS[2] job progress hash   KEYS[3] job errors list
  ARGV[1] tenant key prefix  ARGV[2] duplicate mode: skip | override
  ARGV[3] first line   ARGV[4] last line   ARGV[5] data rows read in the range
  ARGV[6] error count n   ARGV[7] most errors kept in the list   ARGV[8] track seen ids: 1 | 0
  ARGV[9] the OUs the importing key is limited to, joined by \31 ('' = every OU)
  ARGV[10] with ARGV[9]: the file line of each rule, joined by commas (for their row errors)
  ARGV[11 .. 10+n] errors as CSV lines   ARGV[11+n ..] encoded rules (src/store/rule-codec.ts)

  Output: { applied (1, or 0 when the range was applied before, -1 when it overlaps the mark),
            imported, skipped, refused (rows whose duplicate is a rule outside the key's OUs) }
  Progress hash fields: line (high-water mark), read, imported, skipped, failed.
  Seen ids (overwrite all) go to sets P .. 'job:' .. <job> .. ':seen:' .. (id // 512), named from
  KEYS[2] with ':progress' replaced by ':seen:'.
]]
local P = ARGV[1]
local mode = ARGV[2]
local first = tonumber(ARGV[3])
local last = tonumber(ARGV[4])

--- @include "rule-index"

local mark = tonumber(rcall('HGET', KEYS[2], 'line') or '0')
if mark >= last then return { 0, 0, 0, 0 } end
if mark >= first then return { -1, 0, 0, 0 } end

local nErr = tonumber(ARGV[6])
if tonumber(rcall('GET', KEYS[1]) or '0') + (#ARGV - 10 - nErr) > 4294967295 then
  return redis.error_reply('CG_ERR_LIMIT_EXCEEDED the tenant has used up its rule ids')
end
local cap = tonumber(ARGV[7])
local track = ARGV[8] == '1'
local seenPrefix = string.gsub(KEYS[2], ':progress$', ':seen:')
local imported, skipped = 0, 0

local function seen(id)
  if track then rcall('SADD', seenPrefix .. floor(id / 512), id) end
end

-- New rules' ids come from a local counter and their bucket hashes are written once per bucket at
-- the end (the script is atomic either way); indexes go through rule-index.lua as every write does.
local nextId = tonumber(rcall('GET', KEYS[1]) or '0')
local startId = nextId
local pendingEnc, pendingKeys, pendingOrder = {}, {}, {}

-- Group / type / OU tags and expiry sets of new rules: one SADD per set at the end instead of one
-- per rule, then the set's directory entry. Keys from tagKeys() / expiryKeys() in rule-index.lua,
-- as tagAdd() / expiryAdd() write them.
local setIds, setOrder = {}, {}
-- New rules of this batch that a later row replaced (override): their collected sets are stale.
local replaced = {}
-- Each set's directory command beside it: the id lists stay plain arrays, which Lua appends to and
-- unpacks fastest.
local setDirs = {}
local function setList(key, dirCommand, dirKey, score, member)
  local list = setIds[key]
  if not list then
    list = {}
    setIds[key] = list
    setDirs[key] = { dirCommand, dirKey, score, member }
    setOrder[#setOrder + 1] = key
  end
  return list
end
-- New ids are consecutive, so the lists of the current id bucket are looked up by value alone.
local cachedBucket, tagLists, expiryLists = -1, nil, nil
local function listsFor(id)
  local b = floor(id / 512)
  if b ~= cachedBucket then cachedBucket, tagLists, expiryLists = b, { g = {}, t = {}, o = {} }, {} end
end
local function tagCollect(dim, value, id, sid)
  if value == nil or value == '' then return end
  local list = tagLists[dim][value]
  if not list then
    local key, dir, b = tagKeys(dim, value, id)
    list = setList(key, 'SADD', dir, b)
    tagLists[dim][value] = list
  end
  list[#list + 1] = sid
end
local function expiryCollect(expires, id, sid)
  if expires == nil or expires == '' then return end
  local list = expiryLists[expires]
  if not list then
    local key, hour, member = expiryKeys(expires, id)
    list = setList(key, 'ZADD', P .. 'ed', hour, member)
    expiryLists[expires] = list
  end
  list[#list + 1] = sid
end

-- A key limited to some OUs may neither skip into nor override a rule of another OU (as POST
-- /v1/rules refuses it): such a row is a row error, and the rule is left as it was.
local scope = nil
if ARGV[9] ~= '' then
  scope = {}
  for ou in string.gmatch(ARGV[9], '[^\31]+') do scope[ou] = true end
end
local refusedErrors, ruleLines = {}, nil
local function refuseForeign(index, dup)
  if not scope or pendingEnc[dup] then return false end
  local old = rcall('HGET', ruleKey(dup), dup)
  if not old then return false end
  local _, _, _, _, ou = ruleIndexFields(old)
  if scope[ou] then return false end
  if not ruleLines then
    ruleLines = {}
    for l in string.gmatch(ARGV[10], '[^,]+') do ruleLines[#ruleLines + 1] = l end
  end
  refusedErrors[#refusedErrors + 1] = (ruleLines[index] or '?') ..
    ',called,a rule outside this key\'s OUs has identical conditions; ask a tenant admin to change it'
  return true
end

local firstRule = 11 + nErr
for i = firstRule, #ARGV do
  local enc = ARGV[i]
  local called, calling, group, typeId, ou, expires = ruleIndexFields(enc)
  local side, text = 'c', called
  if text == '' then side, text = 'g', calling end
  local bucket, leaf = leafKey(side, text)
  -- Most imported numbers are new: claiming the number's index entry for the next id is then the
  -- whole duplicate check. A number already there gets the full check.
  -- The id as text once, as an integer: Lua turns a number into text with a slow float sprintf.
  local sid = string.format('%d', nextId + 1)
  local claimed = text ~= '' and rcall('HSETNX', bucket, text, sid) == 1
  local f, dup, ids = nil, nil, nil
  if not claimed then
    f = ruleFields(enc)
    dup, side, ids, bucket, leaf = findDuplicate(f, ruleConditions(enc, f), nil, pendingEnc)
  end
  if dup and refuseForeign(i - firstRule + 1, dup) then
    -- refused: counted with the batch's errors below
  elseif dup and mode == 'skip' then
    skipped = skipped + 1
    seen(dup)
  elseif dup then
    local old = pendingEnc[dup] or rcall('HGET', ruleKey(dup), dup)
    if old then indexRemove(dup, ruleFields(old)) end
    if pendingEnc[dup] then
      -- The later field wins in the bucket's one HSET at the end; the tags collected for the earlier
      -- row are dropped there (indexAdd below writes the new row's at once).
      pendingEnc[dup] = enc
      replaced[tostring(dup)] = true
      local list = pendingKeys[ruleBucketOf(dup)]
      list[#list + 1] = tostring(dup)
      list[#list + 1] = enc
    else
      rcall('HSET', ruleKey(dup), dup, enc)
    end
    indexAdd(dup, f)
    imported = imported + 1
    seen(dup)
  else
    nextId = nextId + 1
    local id = nextId
    pendingEnc[id] = enc
    local b = ruleBucketOf(id)
    local list = pendingKeys[b]
    if not list then
      list = {}
      pendingKeys[b] = list
      pendingOrder[#pendingOrder + 1] = b
    end
    list[#list + 1] = sid
    list[#list + 1] = enc
    if claimed then
      numberGrew(side, bucket, leaf, id)
      if side == 'c' and calling ~= '' then numberAdd('g', calling, id) end
    else
      -- What the duplicate check read is still current: pass it on instead of reading again.
      indexNumbers(id, f, side, ids or false, bucket, leaf)
    end
    if group ~= '' or typeId ~= '' or ou ~= '' or expires ~= '' then
      listsFor(id)
      tagCollect('g', group, id, sid)
      tagCollect('t', typeId, id, sid)
      tagCollect('o', ou, id, sid)
      expiryCollect(expires, id, sid)
    end
    imported = imported + 1
    if track then seen(id) end
  end
end
for _, b in ipairs(pendingOrder) do
  rcall('HSET', ruleBucketKey(b), unpack(pendingKeys[b]))
end
for _, key in ipairs(setOrder) do
  local list = setIds[key]
  if next(replaced) ~= nil then
    local kept = {}
    for _, sid in ipairs(list) do
      if not replaced[sid] then kept[#kept + 1] = sid end
    end
    list = kept
  end
  local n = #list
  for i = 1, n, 4000 do rcall('SADD', key, unpack(list, i, math.min(n, i + 3999))) end
  if n > 0 then rcall(unpack(setDirs[key])) end
end
if nextId ~= startId then rcall('SET', KEYS[1], nextId) end

if nErr > 0 then
  local have = rcall('LLEN', KEYS[3])
  local room = cap - have
  if room > 0 then
    local args = { 'RPUSH', KEYS[3] }
    for i = 11, math.min(10 + nErr, 10 + room) do args[#args + 1] = ARGV[i] end
    if #args > 2 then rcall(unpack(args)) end
  end
end
if #refusedErrors > 0 then
  local room = cap - rcall('LLEN', KEYS[3])
  if room > 0 then
    local args = { 'RPUSH', KEYS[3] }
    for i = 1, math.min(#refusedErrors, room) do args[#args + 1] = refusedErrors[i] end
    rcall(unpack(args))
  end
end
rcall('HSET', KEYS[2], 'line', last)
rcall('HINCRBY', KEYS[2], 'read', tonumber(ARGV[5]))
rcall('HINCRBY', KEYS[2], 'imported', imported)
rcall('HINCRBY', KEYS[2], 'skipped', skipped)
rcall('HINCRBY', KEYS[2], 'failed', nErr + #refusedErrors)
return { 1, imported, skipped, #refusedErrors }
