-- One instance's heartbeat in a shard group (ours; the gem ignores the key): the member's
-- score is its expiry on the Redis clock, so every instance judges liveness by one clock.
-- Forgets members whose heartbeat expired, then counts the members that beat recently: one
-- that missed its last beats (killed, frozen) no longer shrinks the others' share, so they
-- can take its shards as soon as its locks expire, and never hand shards over to it.
-- KEYS[1] the group's instance set; ARGV[1] the instance id, ARGV[2] the heartbeat ttl in ms,
-- ARGV[3] how recent a beat counts, in ms. Returns the number of instances that beat within it.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], 2 * ttl)
return redis.call('ZCOUNT', KEYS[1], now + ttl - tonumber(ARGV[3]), '+inf')
