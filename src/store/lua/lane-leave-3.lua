--[[
  The holder of a lane is done (delivered, given up, or gone): the oldest waiting delivery of the
  lane becomes the holder.

  KEYS[1] holders hash (lane -> job id)   KEYS[2] the lane's waiting set   KEYS[3] the receiver's failing set
  ARGV[1] lane   ARGV[2] job id of the holder that is done

  Output: the job id of the new holder, or false when the lane is empty (or `ARGV[2]` no longer held it;
  it is then only taken out of the waiting set)
]]
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return false end
local nextUp = redis.call('ZPOPMIN', KEYS[2])
if nextUp[1] then
  redis.call('HSET', KEYS[1], ARGV[1], nextUp[1])
  return nextUp[1]
end
redis.call('HDEL', KEYS[1], ARGV[1])
return false
