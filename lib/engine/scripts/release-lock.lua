-- Releases the lock if this owner holds it and wakes one standby waiting on the notify list.
-- KEYS[1] lock key, KEYS[2] notify list; ARGV[1] owner id, ARGV[2] ttl in ms (of the notify list).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('DEL', KEYS[2])
  redis.call('LPUSH', KEYS[2], '1')
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
