-- Deletes every entry that all the given consumers have committed, i.e. up to and including
-- the numerically smallest offset. A consumer without an offset yet blocks trimming entirely
-- (the gem skips it, so a newly added consumer would lose the entries trimmed before it ran).
-- KEYS[1] stream, KEYS[2] registry set of consumer names, KEYS[3..n] offset keys of the
-- consumers ARGV[1..n-2]. Returns the number of deleted entries; -1 when some consumer has
-- no offset; -2 when the registry names a consumer missing from ARGV (it registered after
-- the caller read the registry: read it again and retry), so that no registered consumer is
-- ever overlooked. An offset that is not a stream id, or lies beyond the stream's last generated
-- id (tampered with: its consumer stalls on it), is an error and nothing is trimmed, so the
-- entries that consumer has not handled stay.
local given = {}
for i = 1, #ARGV do
  given[ARGV[i]] = true
end
for _, name in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if not given[name] then
    return -2
  end
end

-- Ids are 64-bit integers and Lua's doubles lose precision beyond 2^53, so the parts are
-- compared as decimal strings without leading zeros: the longer is larger, then lexically.
local function less(a, b)
  if #a ~= #b then
    return #a < #b
  end
  return a < b
end
local function canonical(digits)
  local stripped = string.match(digits, '^0*(%d-)$')
  if stripped == '' then
    return '0'
  end
  return stripped
end

local last_ms, last_seq
local info = {}
if redis.call('EXISTS', KEYS[1]) == 1 then
  info = redis.call('XINFO', 'STREAM', KEYS[1])
end
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then
    last_ms, last_seq = string.match(info[i + 1], '^(%d+)-(%d+)$')
  end
end

local min_ms, min_seq
for i = 3, #KEYS do
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
  ms, seq = canonical(ms), canonical(seq)
  if last_ms and (less(last_ms, ms) or (last_ms == ms and less(last_seq, seq))) then
    return redis.error_reply(
      'offset in ' .. KEYS[i] .. ' (' .. offset .. ') is beyond the last id the stream generated ('
        .. last_ms .. '-' .. last_seq .. '); not trimming'
    )
  end
  if not min_ms or less(ms, min_ms) or (ms == min_ms and less(seq, min_seq)) then
    min_ms, min_seq = ms, seq
  end
end
if not min_ms then
  return 0
end
-- XTRIM MINID keeps the ids >= its threshold; the threshold entry is committed too. One call
-- per line: an error reply names the line, and the line names the command.
local min_id = min_ms .. '-' .. min_seq
local trimmed = redis.call('XTRIM', KEYS[1], 'MINID', min_id)
return trimmed + redis.call('XDEL', KEYS[1], min_id)
