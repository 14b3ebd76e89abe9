--[[
  Adds a tenant id to the set of tenants, or removes it, and records that in the tenants change
  stream in the same step, so every node tailing the stream learns of it. Nothing is recorded when
  the set did not change (the id was already there / already gone).

  KEYS[1] set of tenant ids   KEYS[2] tenants change stream   KEYS[3] its version key
  ARGV[1] 'ta' (add) or 'td' (delete)   ARGV[2] tenant id   ARGV[3] stream MAXLEN (approximate)
  ARGV[4] the tenant's params JSON (add only; '' when deleting)

  Output: the change id, or '' when the set did not change
]]
local STREAM = KEYS[2]
local VERSION_KEY = KEYS[3]
local MAXLEN = ARGV[3]

--- @include "change"

local op, tenant = ARGV[1], ARGV[2]
local changed
if op == 'ta' then
  changed = redis.call('SADD', KEYS[1], tenant)
else
  changed = redis.call('SREM', KEYS[1], tenant)
end
if changed == 0 then return '' end
if op == 'ta' then return appendChange({ 'op', op, 'tenant', tenant, 'params', ARGV[4] }) end
return appendChange({ 'op', op, 'tenant', tenant })
