-- The Delayer's step, atomic: re-queues due delay messages on the main stream, deletes them from
-- the delay stream and commits the delayer's offset, all or nothing, and only while the
-- delayer still owns its lock. A crash can therefore neither lose nor duplicate a message here.
-- An entry is re-queued only if this script's XDEL removed it: one already deleted (by
-- `queue(..., { delayMessageIds })` after the delayer read it, or by a first run of this very
-- script whose reply was lost before the client re-sent it) is not re-queued again.
-- KEYS[1] main stream, KEYS[2] delay stream, KEYS[3] lock key, KEYS[4] offset key
-- ARGV[1] owner id, ARGV[2] ttl in ms, ARGV[3] offset to commit, then pairs: delay id, payload
-- (an empty payload means: delete without re-queueing, for entries without a payload field).
-- Returns the number of re-queued messages, or -1 when the lock is not held.
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return -1
end
-- One XRANGE over the batch tells which ids are still there (cheaper than an XDEL per id);
-- the script is atomic, so what is present now is exactly what the XDELs below remove.
local present = {}
for _, entry in ipairs(redis.call('XRANGE', KEYS[2], ARGV[4], ARGV[#ARGV - 1])) do
  present[entry[1]] = true
end
local queued = 0
local doomed = {}
for i = 4, #ARGV, 2 do
  if present[ARGV[i]] then
    doomed[#doomed + 1] = ARGV[i]
    if ARGV[i + 1] ~= '' then
      redis.call('XADD', KEYS[1], '*', 'payload', ARGV[i + 1])
      queued = queued + 1
    end
  end
  if #doomed == 500 then
    redis.call('XDEL', KEYS[2], unpack(doomed))
    doomed = {}
  end
end
if #doomed > 0 then
  redis.call('XDEL', KEYS[2], unpack(doomed))
end
redis.call('SET', KEYS[4], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return queued
