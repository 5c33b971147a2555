-- Sets a consumer's committed offset (a rewind, or a skip ahead) only while no instance holds
-- the consumer's lock: a running owner reads on from the offset in its memory and would commit
-- over the new one.
-- KEYS[1] lock key, KEYS[2] offset key; ARGV[1] the new offset.
-- Returns {0, owner id} when the lock is held, else {1, previous offset or ''}.
local owner = redis.call('GET', KEYS[1])
if owner then
  return {0, owner}
end
local previous = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1])
return {1, previous or ''}
