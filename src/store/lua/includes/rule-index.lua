--[[
  Shared by the rule scripts: the stored rule layout (see src/store/rule-codec.ts) and its indexes
  (see src/store/keys.ts for the key suffixes). Expects a local P = the tenant key prefix.
  Fields (1-based): 1 called 2 calling 3 dir 4 group 5 sbc 6 provider 7 customerGroup 8 user
  9 country 10 action 11 type 12 ou 13 updatedAt 14 expiresAt 15.. remarks.
]]
local SEP = '\31'

local function ruleFields(enc)
  local t = {}
  local start = 1
  while true do
    local i = string.find(enc, SEP, start, true)
    if not i then
      t[#t + 1] = string.sub(enc, start)
      return t
    end
    t[#t + 1] = string.sub(enc, start, i - 1)
    start = i + 1
  end
end

-- The text before the ninth separator: conditionsKey() of the rule.
local function ruleConditions(enc)
  local pos = 0
  for _ = 1, 9 do
    pos = string.find(enc, SEP, pos + 1, true)
    if not pos then return enc end
  end
  return string.sub(enc, 1, pos - 1)
end

local function ruleKey(id)
  return P .. 'r:' .. math.floor(id / 128)
end

local function numberBucketOf(text)
  if text == 'anonymous' then return 'anon' end
  local fixed = text
  if string.sub(text, 1, 1) == '_' then
    fixed = string.gsub(string.gsub(string.sub(text, 2), '[!.]$', ''), 'X+$', '')
  end
  local n = #fixed - 2
  if n < 0 then n = 0 end
  return string.sub(fixed, 1, n)
end

local function numberKey(side, text)
  return P .. 'n:' .. side .. ':' .. numberBucketOf(text), numberBucketOf(text)
end

local function idsAt(side, text)
  local key = numberKey(side, text)
  return redis.call('HGET', key, text)
end

local function numberAdd(side, text, id)
  if text == '' then return end
  local key, bucket = numberKey(side, text)
  local cur = redis.call('HGET', key, text)
  if cur then
    redis.call('HSET', key, text, cur .. ',' .. id)
  else
    redis.call('HSET', key, text, id)
    redis.call('ZADD', P .. 'nd:' .. side, 0, bucket)
  end
end

local function numberRemove(side, text, id)
  if text == '' then return end
  local key, bucket = numberKey(side, text)
  local cur = redis.call('HGET', key, text)
  if not cur then return end
  local out = {}
  local sid = tostring(id)
  for tok in string.gmatch(cur, '[^,]+') do
    if tok ~= sid then out[#out + 1] = tok end
  end
  if #out > 0 then
    redis.call('HSET', key, text, table.concat(out, ','))
  else
    redis.call('HDEL', key, text)
    if redis.call('EXISTS', key) == 0 then redis.call('ZREM', P .. 'nd:' .. side, bucket) end
  end
end

local function tagAdd(dim, value, id)
  if value == nil or value == '' then return end
  local b = math.floor(id / 512)
  redis.call('SADD', P .. 'x:' .. dim .. ':' .. b .. ':' .. value, id)
  redis.call('SADD', P .. 'xd:' .. dim .. ':' .. value, b)
end

local function tagRemove(dim, value, id)
  if value == nil or value == '' then return end
  local b = math.floor(id / 512)
  local key = P .. 'x:' .. dim .. ':' .. b .. ':' .. value
  redis.call('SREM', key, id)
  if redis.call('EXISTS', key) == 0 then redis.call('SREM', P .. 'xd:' .. dim .. ':' .. value, b) end
end

local function expiryAdd(expires, id)
  if expires == nil or expires == '' then return end
  local hour = math.floor(tonumber(expires, 36) / 3600) * 3600
  local b = math.floor(id / 512)
  redis.call('SADD', P .. 'e:' .. hour .. ':' .. b, id)
  redis.call('ZADD', P .. 'ed', hour, hour .. ':' .. b)
end

local function expiryRemove(expires, id)
  if expires == nil or expires == '' then return end
  local hour = math.floor(tonumber(expires, 36) / 3600) * 3600
  local b = math.floor(id / 512)
  local key = P .. 'e:' .. hour .. ':' .. b
  redis.call('SREM', key, id)
  if redis.call('EXISTS', key) == 0 then redis.call('ZREM', P .. 'ed', hour .. ':' .. b) end
end

local function indexAdd(id, f)
  numberAdd('c', f[1], id)
  numberAdd('g', f[2], id)
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
  local old = redis.call('HGET', key, id)
  if not old then return false end
  indexRemove(id, ruleFields(old))
  redis.call('HDEL', key, id)
  return true
end
