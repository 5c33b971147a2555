-- The Delayer's step, atomic: re-queues due delay messages on the main stream, deletes them from
-- the delay stream and commits the delayer's offset, all or nothing, and only while the
-- delayer still owns its lock. A crash can therefore neither lose nor duplicate a message here.
-- KEYS[1] main stream, KEYS[2] delay stream, KEYS[3] lock key, KEYS[4] offset key
-- ARGV[1] owner id, ARGV[2] ttl in ms, ARGV[3] offset to commit, then pairs: delay id, payload
-- (an empty payload means: delete without re-queueing, for entries without a payload field).
-- Returns the number of re-queued messages, or -1 when the lock is not held.
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return -1
end
local queued = 0
local ids = {}
for i = 4, #ARGV, 2 do
  if ARGV[i + 1] ~= '' then
    redis.call('XADD', KEYS[1], '*', 'payload', ARGV[i + 1])
    queued = queued + 1
  end
  ids[#ids + 1] = ARGV[i]
  if #ids == 500 then
    redis.call('XDEL', KEYS[2], unpack(ids))
    ids = {}
  end
end
if #ids > 0 then
  redis.call('XDEL', KEYS[2], unpack(ids))
end
redis.call('SET', KEYS[4], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return queued
