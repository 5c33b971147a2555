-- Writes a dead letter's payload back to its stream as a new entry and deletes the dead
-- letter, in one step: a replayed entry is never lost (deleted before written) nor
-- duplicated (written twice by a retried replay).
-- KEYS[1] dead-letter stream, KEYS[2] stream; ARGV[1] dead-letter id.
-- Returns the new entry's id; false when there is no such dead letter; {err} when it has
-- no payload field to replay.
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then
  return false
end
local fields = found[1][2]
for i = 1, #fields, 2 do
  if fields[i] == 'payload' then
    local id = redis.call('XADD', KEYS[2], '*', 'payload', fields[i + 1])
    redis.call('XDEL', KEYS[1], ARGV[1])
    return id
  end
end
return redis.error_reply('dead letter ' .. ARGV[1] .. ' has no payload field to replay')
