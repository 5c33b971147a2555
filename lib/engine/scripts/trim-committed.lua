-- Deletes every entry that all the given consumers have committed, i.e. up to and including
-- the numerically smallest offset. A consumer without an offset yet blocks trimming entirely
-- (the gem skips it, so a newly added consumer would lose the entries trimmed before it ran).
-- KEYS[1] stream, KEYS[2..n] offset keys. Returns the number of deleted entries, or -1 when
-- some consumer has no offset.
local min_ms, min_seq
for i = 2, #KEYS do
  local offset = redis.call('GET', KEYS[i])
  if not offset then
    return -1
  end
  local ms, seq = string.match(offset, '^(%d+)-(%d+)$')
  if not ms then
    ms, seq = string.match(offset, '^(%d+)$'), '0'
  end
  if not ms then
    return redis.error_reply('invalid offset in ' .. KEYS[i] .. ': ' .. offset)
  end
  ms, seq = tonumber(ms), tonumber(seq)
  if not min_ms or ms < min_ms or (ms == min_ms and seq < min_seq) then
    min_ms, min_seq = ms, seq
  end
end
if not min_ms then
  return 0
end
-- XTRIM MINID keeps ids >= the threshold, so the threshold is the id right after the minimum.
return redis.call('XTRIM', KEYS[1], 'MINID', string.format('%.0f-%.0f', min_ms, min_seq + 1))
