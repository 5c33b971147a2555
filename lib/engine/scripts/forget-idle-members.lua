-- Removes the members of a consumer group that have been idle for at least ARGV[2] ms and
-- hold no pending entries, in one step: a member's pending entries vanish with it (and the
-- group's last-delivered id is past them, so they would never be delivered again), hence the
-- pending count is read in the same script that deletes.
-- KEYS[1] stream; ARGV[1] group, ARGV[2] minimum idle time in ms, ARGV[3..n] members to keep
-- (the caller itself). Returns the names of the removed members.
local keep = {}
for i = 3, #ARGV do
  keep[ARGV[i]] = true
end
local min_idle = tonumber(ARGV[2])
local removed = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local fields = {}
  for i = 1, #consumer, 2 do
    fields[consumer[i]] = consumer[i + 1]
  end
  local name = fields['name']
  if not keep[name] and fields['pending'] == 0 and fields['idle'] >= min_idle then
    -- DELCONSUMER returns the number of pending entries the member had: 0 here.
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed[#removed + 1] = name
  end
end
return removed
