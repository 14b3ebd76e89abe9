--[[
  Adds one node's batch of outbound attempts to the shared counters and tells the other nodes:
  HINCRBY each (counting key, bucket) by its count, keep each key alive for its longest window, and
  append the batch to the tenant's attempts stream, which every node reads back.

  KEYS[1] attempts stream
  ARGV[1] key prefix of the counters (cg:{tenant}:att:)   ARGV[2] TTL of a counter, ms
  ARGV[3] stream MAXLEN (approximate)   ARGV[4] node id   ARGV[5] the batch packed for the stream
  ARGV[6..] triples: counting key, bucket field, count; count '-' deletes the field (a bucket no
            window reaches any more)

  Output: the stream entry id
]]
local prefix = ARGV[1]
local ttl = tonumber(ARGV[2])
local touched = {}
for i = 6, #ARGV, 3 do
  local key = prefix .. ARGV[i]
  if ARGV[i + 2] == '-' then
    redis.call('HDEL', key, ARGV[i + 1])
  else
    redis.call('HINCRBY', key, ARGV[i + 1], tonumber(ARGV[i + 2]))
    touched[key] = true
  end
end
for key in pairs(touched) do redis.call('PEXPIRE', key, ttl) end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'n', ARGV[4], 'b', ARGV[5])
