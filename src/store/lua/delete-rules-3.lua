--[[
  Deletes rules with their indexes and one change record listing the ids that existed.

  KEYS[1] rule id counter (routing only)   KEYS[2] change stream   KEYS[3] version key
  ARGV[1] tenant key prefix   ARGV[2] emit changes: 1 | 0   ARGV[3] stream MAXLEN (approximate)
  ARGV[4..] rule ids

  Output: { version ('' when nothing was written), deleted id, deleted id, ... }
]]
local P = ARGV[1]
local STREAM = KEYS[2]
local VERSION_KEY = KEYS[3]
local MAXLEN = ARGV[3]

--- @include "rule-index"
--- @include "change"

local deleted = {}
for i = 4, #ARGV do
  local id = tonumber(ARGV[i])
  if ruleRemove(id) then deleted[#deleted + 1] = id end
end
local version = ''
if #deleted > 0 and ARGV[2] == '1' then
  version = appendChange({ 'op', 'd', 'ids', table.concat(deleted, ',') })
end
local out = { version }
for i = 1, #deleted do out[#out + 1] = deleted[i] end
return out
