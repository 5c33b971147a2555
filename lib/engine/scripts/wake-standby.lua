-- Wakes a standby waiting on the notify list after the lock expired (its owner crashed), as a
-- release does, unless another instance has taken the lock meanwhile. One token at most, as
-- after a release: several processes that saw the same expiry leave no pile of wake-ups.
-- KEYS[1] lock key, KEYS[2] notify list; ARGV[1] ttl in ms (of the notify list).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('DEL', KEYS[2])
redis.call('LPUSH', KEYS[2], '1')
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
