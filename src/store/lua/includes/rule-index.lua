--[[
  Shared by the rule scripts: the stored rule layout (see src/store/rule-codec.ts) and its indexes
  (see src/store/keys.ts for the key suffixes). Expects a local P = the tenant key prefix.
  Fields (1-based): 1 called 2 calling 3 dir 4 group 5 sbc 6 provider 7 customerGroup 8 user
  9 country 10 action 11 type 12 ou 13 updatedAt 14 expiresAt 15.. remarks.
]]
local SEP = '\31'
-- Library functions as locals: a global lookup and a field lookup less per use, and these run for
-- every rule of a bulk import.
local rcall = redis.call
local sub, byte, match = string.sub, string.byte, string.match
local floor = math.floor

-- One C-level match instead of a Lua loop: this runs for every rule of a bulk import.
local FIELDS = '^' .. string.rep('([^\31]*)\31', 14) .. '(.*)$'
local PAD = string.rep(SEP, 5)

local function ruleFields(enc)
  return { match(enc .. PAD, FIELDS) }
end

-- Only the fields the indexes read, as six values (called, calling, group, type, ou, expiresAt): one
-- match with six captures and no table, for the bulk path's new rules.
local SKIP, TAKE = '[^\31]*\31', '([^\31]*)\31'
-- encodeRule() always writes the fields up to updatedAt (13), so only the separator before the
-- expiry may be missing: the match needs no padded copy of the rule.
local INDEX_FIELDS = '^' .. TAKE .. TAKE .. SKIP .. TAKE .. string.rep(SKIP, 6) .. TAKE .. TAKE .. '[^\31]*\31?([^\31]*)'

local function ruleIndexFields(enc)
  local called, calling, group, typeId, ou, expires = match(enc, INDEX_FIELDS)
  if called then return called, calling, group, typeId, ou, expires end
  return match(enc .. PAD, INDEX_FIELDS)
end

-- The text before the ninth separator: conditionsKey() of the rule.
local function ruleConditions(enc, f)
  f = f or ruleFields(enc)
  local n = 8
  for i = 1, 9 do n = n + #f[i] end
  return sub(enc, 1, n)
end

-- Rules are stored 128 to a hash (RULE_BUCKET_BITS in keys.ts).
local function ruleBucketOf(id)
  return floor(id / 128)
end

local function ruleBucketKey(bucket)
  return P .. 'r:' .. bucket
end

local function ruleKey(id)
  return ruleBucketKey(ruleBucketOf(id))
end

--[[
  The number index: per side (c called, g calling) a trie of hash buckets keyed by the pattern's
  literal digits. A bucket `n:<side>:<prefix>` holds pattern text -> ids for the texts under that
  prefix; once it has outgrown SPLIT_AT texts (checked every few adds, see countAfter) it is split by
  the next character and the prefix joins the set `ns:<side>` (what remains in a split bucket are
  texts whose digits end at the prefix). Dense number blocks and sparse random numbers both end up in
  buckets of tens to about SPLIT_AT texts: listpacks.
]]
local SPLIT_AT = 128

local function patternFixed(text)
  if byte(text, 1) ~= 95 then return text end -- not '_': an exact number
  local body = string.gsub(sub(text, 2), '[!.]$', '')
  return (string.gsub(body, 'X+$', ''))
end

-- Split prefixes seen by this script call: a batch of rules shares most of them.
local splitCache = { c = {}, g = {} }
-- Per side, the depth of the leaf the last lookup found: random numbers mostly end at one depth.
local lastDepth = { c = 0, g = 0 }
-- Per side, the leaf the last lookup found below the root (a prefix shorter than its number).
local lastLeaf = {}
-- Per side, bucket keys by leaf prefix (the key is built once per leaf, not once per rule).
local leafKeys = { c = {}, g = {} }

-- The bucket prefix holding `fixed`: the shortest prefix that is not split (or fixed itself).
-- Runs for every rule of a bulk import. It first tries the depth of the previous leaf (one command
-- for both levels: the parent split, the prefix not), then walks down from the root a level at a
-- time. (Reading a side's whole split set up front, even a small one, cost an import more than the
-- lookups it saved.)
local function numberLeaf(side, fixed)
  if fixed == 'anonymous' then return 'anon' end
  local cache, n, k, prefix = splitCache[side], #fixed, 0, ''
  local d = lastDepth[side]
  if d > 0 and d < n then
    local here = sub(fixed, 1, d)
    -- The same leaf as the last lookup's (consecutive numbers): known not split, its parent split.
    if here == lastLeaf[side] and cache[here] == false then return here end
    local parent = sub(fixed, 1, d - 1)
    local parentSplit, hereSplit = cache[parent], cache[here]
    if parentSplit == nil or hereSplit == nil then
      local r = rcall('SMISMEMBER', P .. 'ns:' .. side, parent, here)
      parentSplit, hereSplit = r[1] == 1, r[2] == 1
      cache[parent], cache[here] = parentSplit, hereSplit
    end
    if parentSplit and not hereSplit then
      lastLeaf[side] = here
      return here
    end
  end
  while k < n do
    local split = cache[prefix]
    if split == nil then
      split = rcall('SISMEMBER', P .. 'ns:' .. side, prefix) == 1
      cache[prefix] = split
    end
    if not split then break end
    k = k + 1
    prefix = sub(fixed, 1, k)
  end
  lastDepth[side] = k
  if k > 0 and k < n then lastLeaf[side] = prefix end
  return prefix
end

-- The bucket key holding a number text, and its leaf prefix.
local function leafKey(side, text)
  local leaf = numberLeaf(side, patternFixed(text))
  local keys = leafKeys[side]
  local key = keys[leaf]
  if not key then
    key = P .. 'n:' .. side .. ':' .. leaf
    keys[leaf] = key
  end
  return key, leaf
end

-- The duplicate check every write does: a rule other than `self` with the same number text and
-- the same conditions. `pending` (optional) holds encodings this script call has not written yet.
-- Returns the duplicate's id (or nil), the index side, the ids read and the bucket they were read
-- from, for numberAdd's `known` and `key`.
local function findDuplicate(f, cond, self, pending)
  local side, text = 'c', f[1]
  if text == '' then side, text = 'g', f[2] end
  local key, leaf = leafKey(side, text)
  local ids = rcall('HGET', key, text)
  if ids then
    for tok in string.gmatch(ids, '[^,]+') do
      local cid = tonumber(tok)
      if cid ~= self then
        local other = (pending and pending[cid]) or rcall('HGET', ruleKey(cid), cid)
        if other and ruleConditions(other) == cond then return cid, side, ids, key, leaf end
      end
    end
  end
  return nil, side, ids, key, leaf
end

local function numberSplit(side, prefix)
  local key = P .. 'n:' .. side .. ':' .. prefix
  rcall('SADD', P .. 'ns:' .. side, prefix)
  splitCache[side][prefix] = true
  local all = rcall('HGETALL', key)
  -- One HSET per child and one rewrite of the parent, rather than a command per moved text.
  local children, stay = {}, {}
  for i = 1, #all, 2 do
    local fixed = patternFixed(all[i])
    local target = stay
    if #fixed > #prefix then
      local child = sub(fixed, 1, #prefix + 1)
      target = children[child]
      if not target then
        target = {}
        children[child] = target
      end
    end
    target[#target + 1] = all[i]
    target[#target + 1] = all[i + 1]
  end
  rcall('DEL', key)
  if #stay > 0 then rcall('HSET', key, unpack(stay)) end
  for child, fields in pairs(children) do
    rcall('HSET', P .. 'n:' .. side .. ':' .. child, unpack(fields))
  end
  return children
end

-- Whether to count a bucket's texts after adding rule `id` to it. Counting after every add costs a
-- command per rule; counting after one add in four (by id, so it is repeatable) lets a bucket pass
-- SPLIT_AT by a few texts, far below the listpack limit (256, redis-process.ts).
local function countAfter(id)
  return id % 4 == 0
end

-- After a new text joined bucket `key` (leaf `leaf`) for rule `id`: splits the bucket when it has
-- grown past SPLIT_AT, and again any child that got everything (numbers sharing a long prefix).
local function numberGrew(side, key, leaf, id)
  if leaf == 'anon' or not countAfter(id) or rcall('HLEN', key) <= SPLIT_AT then return end
  local pending = { leaf }
  while #pending > 0 do
    local prefix = table.remove(pending)
    for child in pairs(numberSplit(side, prefix)) do
      if rcall('HLEN', P .. 'n:' .. side .. ':' .. child) > SPLIT_AT then pending[#pending + 1] = child end
    end
  end
end

-- `known`: the text's current ids when the caller just read them (false: none); nil: read here.
-- `key`, `leaf`: the text's bucket when the caller just looked it up (findDuplicate).
local function numberAdd(side, text, id, known, key, leaf)
  if text == '' then return end
  if not key then key, leaf = leafKey(side, text) end
  local cur = known
  if cur == nil then cur = rcall('HGET', key, text) end
  if cur then
    rcall('HSET', key, text, cur .. ',' .. id)
    return
  end
  rcall('HSET', key, text, id)
  numberGrew(side, key, leaf, id)
end

-- Buckets are not merged back when they shrink: a later import usually refills them.
local function numberRemove(side, text, id)
  if text == '' then return end
  local key = leafKey(side, text)
  local cur = rcall('HGET', key, text)
  if not cur then return end
  local out = {}
  local sid = tostring(id)
  for tok in string.gmatch(cur, '[^,]+') do
    if tok ~= sid then out[#out + 1] = tok end
  end
  if #out > 0 then
    rcall('HSET', key, text, table.concat(out, ','))
  else
    rcall('HDEL', key, text)
  end
end

-- Directory entries this script call already made sure of.
local dirSeen = {}

-- A rule's group / type / OU tag set (x:<dim>:<bucket>:<value>), its directory (xd:<dim>:<value>)
-- and its id bucket. Every script that writes tags builds the keys here.
local function tagKeys(dim, value, id)
  local b = floor(id / 512)
  return P .. 'x:' .. dim .. ':' .. b .. ':' .. value, P .. 'xd:' .. dim .. ':' .. value, b
end

local function tagAdd(dim, value, id)
  if value == nil or value == '' then return end
  local key, dir, b = tagKeys(dim, value, id)
  rcall('SADD', key, id)
  if not dirSeen[key] then
    rcall('SADD', dir, b)
    dirSeen[key] = true
  end
end

local function tagRemove(dim, value, id)
  if value == nil or value == '' then return end
  local key, dir, b = tagKeys(dim, value, id)
  rcall('SREM', key, id)
  if rcall('EXISTS', key) == 0 then
    rcall('SREM', dir, b)
    dirSeen[key] = nil
  end
end

-- The expiry set of a rule (e:<hour>:<bucket>) and its member in the directory 'ed', scored by hour.
local function expiryKeys(expires, id)
  local hour = floor(tonumber(expires, 36) / 3600) * 3600
  local b = floor(id / 512)
  return P .. 'e:' .. hour .. ':' .. b, hour, hour .. ':' .. b
end

local function expiryAdd(expires, id)
  if expires == nil or expires == '' then return end
  local key, hour, member = expiryKeys(expires, id)
  rcall('SADD', key, id)
  if not dirSeen[key] then
    rcall('ZADD', P .. 'ed', hour, member)
    dirSeen[key] = true
  end
end

local function expiryRemove(expires, id)
  if expires == nil or expires == '' then return end
  local key, _, member = expiryKeys(expires, id)
  rcall('SREM', key, id)
  if rcall('EXISTS', key) == 0 then
    rcall('ZREM', P .. 'ed', member)
    dirSeen[key] = nil
  end
end

-- A rule's number index entries. `side`, `known`, `key`, `leaf`: what the duplicate check read
-- (findDuplicate), or nil.
local function indexNumbers(id, f, side, known, key, leaf)
  if side == 'c' then numberAdd('c', f[1], id, known, key, leaf) else numberAdd('c', f[1], id) end
  if side == 'g' then numberAdd('g', f[2], id, known, key, leaf) else numberAdd('g', f[2], id) end
end

local function indexAdd(id, f, side, known, key, leaf)
  indexNumbers(id, f, side, known, key, leaf)
  tagAdd('g', f[4], id)
  tagAdd('t', f[11], id)
  tagAdd('o', f[12], id)
  expiryAdd(f[14], id)
end

local function indexRemove(id, f)
  numberRemove('c', f[1], id)
  numberRemove('g', f[2], id)
  tagRemove('g', f[4], id)
  tagRemove('t', f[11], id)
  tagRemove('o', f[12], id)
  expiryRemove(f[14], id)
end

-- Removes a stored rule and its indexes; returns true when it existed.
local function ruleRemove(id)
  local key = ruleKey(id)
  local old = rcall('HGET', key, id)
  if not old then return false end
  indexRemove(id, ruleFields(old))
  rcall('HDEL', key, id)
  return true
end
