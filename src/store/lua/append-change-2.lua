--[[
  Records one change with nothing else to write (a reload after a bulk write).

  KEYS[1] change stream   KEYS[2] version key
  ARGV[1] stream MAXLEN (approximate)   ARGV[2..] change entry field/value pairs

  Output: the change id
]]
local STREAM = KEYS[1]
local VERSION_KEY = KEYS[2]
local MAXLEN = ARGV[1]

--- @include "change"

local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
return appendChange(fields)
