-- Removes a member from its consumer group unless it still holds pending entries (another
-- member claims those after claimIdleMs; deleting the member would drop them for good).
-- KEYS[1] stream; ARGV[1] group, ARGV[2] member. Returns 1 when removed, 0 when it has
-- pending entries or is not (or no longer) a member.
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local fields = {}
  for i = 1, #consumer, 2 do
    fields[consumer[i]] = consumer[i + 1]
  end
  if fields['name'] == ARGV[2] then
    if fields['pending'] ~= 0 then
      return 0
    end
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    return 1
  end
end
return 0
