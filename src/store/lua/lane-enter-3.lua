--[[
  A webhook delivery asks to go: it goes when its lane is free (it becomes the holder) or when it
  already holds the lane (its own retry); otherwise it waits behind the holder, in event order.

  KEYS[1] holders hash (lane -> job id)   KEYS[2] the lane's waiting set   KEYS[3] the receiver's failing set
  ARGV[1] lane   ARGV[2] job id   ARGV[3] order score (event time * 1024 + sequence)

  Output: {1, due} it holds the lane; due = when its next attempt is due (epoch ms) if it is failing, else ''
          {0, holder, rank} it waits behind `holder`, with `rank` jobs of the lane waiting ahead of it
]]
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if (not holder) or holder == ARGV[2] then
  if not holder then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
  redis.call('ZREM', KEYS[2], ARGV[2])
  local due = redis.call('ZSCORE', KEYS[3], ARGV[2])
  return {1, due or ''}
end
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[2])
return {0, holder, redis.call('ZRANK', KEYS[2], ARGV[2])}
