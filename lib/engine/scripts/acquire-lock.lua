-- Takes the lock when it is free, or extends it when this owner already holds it.
-- Same semantics as the redstream gem's lock, so gem and library instances exclude each other.
-- KEYS[1] lock key; ARGV[1] owner id, ARGV[2] ttl in ms. Returns 1 when held, 0 otherwise.
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
