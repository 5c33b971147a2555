-- Extends the lock only for its owner (the gem's refresh extends whoever holds it).
-- KEYS[1] lock key; ARGV[1] owner id, ARGV[2] ttl in ms. Returns 1 when still held, 0 when lost.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
