--[[
  Appends a batch of decision audit records to a tenant's decision stream in one round trip.
  KEYS[1]  the decision stream (cg:{tenant}:decisions)
  ARGV[1]  MAXLEN (approximate cap of the stream)
  ARGV[2..] one packed record each (fields joined by \x1f, see src/store/decision-log.ts)
  Returns the number of entries appended.
]]
local key = KEYS[1]
local maxlen = ARGV[1]
for i = 2, #ARGV do
  redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', 'd', ARGV[i])
end
return #ARGV - 1
