-- Commits a consumer's offset only while the committer still owns the consumer's lock, and
-- extends the lock in the same step. A stale owner (paused past the ttl, partitioned) gets 0
-- and must stop, so it can never move back an offset that a newer owner committed.
-- KEYS[1] lock key, KEYS[2] offset key; ARGV[1] owner id, ARGV[2] offset, ARGV[3] ttl in ms.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
