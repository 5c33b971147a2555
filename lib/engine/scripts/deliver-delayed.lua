-- The Delayer's step, atomic: re-queues due delay messages on the main stream, deletes them from
-- the delay stream and commits the delayer's offset, all or nothing, and only while the
-- delayer still owns its lock. A crash can therefore neither lose nor duplicate a message here.
-- The entries are read here by id range rather than passed in, so no payload travels back
-- from the client (a batch of large entries built one huge command before); COUNT bounds the
-- work of one call. An entry is re-queued only if this script's XDEL removes it: one already
-- deleted (by `queue(..., { delayMessageIds })` after the delayer read it, or by a first run of
-- this very script whose reply was lost before the client re-sent it) is not re-queued again.
-- An entry without a payload is deleted, not re-queued; the trace context goes along, nothing else.
-- KEYS[1] main stream, KEYS[2] delay stream, KEYS[3] lock key, KEYS[4] offset key
-- ARGV[1] owner id, ARGV[2] ttl in ms, ARGV[3] first id, ARGV[4] last id (the offset to
-- commit), ARGV[5] most entries to move.
-- Returns the number of re-queued messages, or -1 when the lock is not held.
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return -1
end
local entries = redis.call('XRANGE', KEYS[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local queued = 0
local doomed = {}
for _, entry in ipairs(entries) do
  local fields = entry[2]
  local payload, traceparent, tracestate
  for i = 1, #fields, 2 do
    local name = fields[i]
    if name == 'payload' then payload = fields[i + 1]
    elseif name == 'traceparent' then traceparent = fields[i + 1]
    elseif name == 'tracestate' then tracestate = fields[i + 1] end
  end
  if payload then
    if not traceparent then
      redis.call('XADD', KEYS[1], '*', 'payload', payload)
    elseif not tracestate then
      redis.call('XADD', KEYS[1], '*', 'payload', payload, 'traceparent', traceparent)
    else
      redis.call('XADD', KEYS[1], '*', 'payload', payload, 'traceparent', traceparent, 'tracestate', tracestate)
    end
    queued = queued + 1
  end
  doomed[#doomed + 1] = entry[1]
  if #doomed == 500 then
    redis.call('XDEL', KEYS[2], unpack(doomed))
    doomed = {}
  end
end
if #doomed > 0 then
  redis.call('XDEL', KEYS[2], unpack(doomed))
end
redis.call('SET', KEYS[4], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return queued
