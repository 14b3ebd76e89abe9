--[[
  Sets (or deletes) one field of a tenant hash and, when a change is given, records it in the change
  stream in the same step: bindings, blocklist types and tenant parameters.

  KEYS[1] hash   KEYS[2] change stream   KEYS[3] version key
  ARGV[1] field   ARGV[2] value ('' deletes the field)   ARGV[3] stream MAXLEN (approximate)
  ARGV[4..] change entry field/value pairs (none: no change record)

  Output: the change id, or '' when no change record was written
]]
local STREAM = KEYS[2]
local VERSION_KEY = KEYS[3]
local MAXLEN = ARGV[3]

--- @include "change"

if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
if #ARGV < 4 then return '' end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
return appendChange(fields)
