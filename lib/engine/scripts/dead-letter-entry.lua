-- Moves one entry to the stream's dead-letter stream: appends its `payload` field unchanged
-- plus where it died (original id, group or consumer, member, delivery count, last error,
-- time), and for a group acks the original in the same step, so that it is neither lost
-- (acked without a dead letter) nor dead-lettered twice (two members after a claim).
-- KEYS[1] stream, KEYS[2] dead-letter stream, KEYS[3] (offset consumers, optional) lock key.
-- ARGV[1] entry id, ARGV[2] 'group' or 'consumer', ARGV[3] group or consumer name,
-- ARGV[4] member ('' for none), ARGV[5] deliveries (offset consumers: the attempts made),
-- ARGV[6] error message, ARGV[7] lock owner id (with KEYS[3]).
-- Returns {1, dead-letter id}; {0} when the entry is not this member's pending entry (a
-- group: claimed by another member, acked already) or the lock is not the owner's (an
-- offset consumer); {-1} when the entry was deleted from the stream (a group: acked).
local id, mode, owner_name, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local deliveries = ARGV[5]

if mode == 'group' then
  local pending = redis.call('XPENDING', KEYS[1], owner_name, id, id, 1)
  if #pending == 0 or pending[1][2] ~= member then
    return { 0 }
  end
  -- Redis's own count: every read of it as pending and every claim counted.
  deliveries = tostring(pending[1][4])
elseif KEYS[3] and redis.call('GET', KEYS[3]) ~= ARGV[7] then
  return { 0 }
end

local found = redis.call('XRANGE', KEYS[1], id, id)
if #found == 0 then
  if mode == 'group' then
    redis.call('XACK', KEYS[1], owner_name, id)
  end
  return { -1 }
end

local fields = found[1][2]
local payload
for i = 1, #fields, 2 do
  if fields[i] == 'payload' then
    payload = fields[i + 1]
    break
  end
end

local now = redis.call('TIME')
local dead_at = tostring(tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
local dead = {}
if payload then
  dead = { 'payload', payload }
end
local owner_field = 'consumer'
if mode == 'group' then
  owner_field = 'group'
end
for _, value in ipairs({ 'original_id', id, owner_field, owner_name }) do
  dead[#dead + 1] = value
end
if member ~= '' then
  dead[#dead + 1] = 'member'
  dead[#dead + 1] = member
end
for _, value in ipairs({ 'deliveries', deliveries, 'error', ARGV[6], 'dead_at', dead_at }) do
  dead[#dead + 1] = value
end
local dead_id = redis.call('XADD', KEYS[2], '*', unpack(dead))
if mode == 'group' then
  redis.call('XACK', KEYS[1], owner_name, id)
end
return { 1, dead_id }
