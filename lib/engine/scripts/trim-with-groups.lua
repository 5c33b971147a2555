-- Deletes the entries of a stream that nobody needs any more, for streams read by consumer
-- groups and/or offset consumers: everything below each group's last-delivered id (inclusive)
-- and each offset consumer's committed offset (inclusive), and below each group's oldest
-- pending id (exclusive: that entry is kept). Nothing at or above the smallest of these, and
-- never beyond the stream's last generated id. Groups are read from the stream itself. The
-- Trimmer's one trim script, with or without groups: without, the bound is the smallest
-- committed offset, that entry included. A consumer without an offset blocks trimming entirely
-- (the gem skips it, so a newly added consumer would lose the entries trimmed before it ran).
-- KEYS[1] stream, KEYS[2] registry set of offset consumer names, KEYS[3..n] offset keys of
-- the consumers ARGV[3..c+2]; ARGV[1] c, the number of consumer names; ARGV[2] 'trim', or
-- 'plan' to delete nothing and return the bound (a dry run); ARGV[c+3..] groups that must
-- exist (configured but maybe not created yet).
-- Returns the number of deleted entries (with 'plan': {bound id, 1 if the bound entry itself
-- would go else 0}, or 0 when nothing would); -1 when some consumer has no offset; -2 when the
-- registry names a consumer missing from ARGV (read it again and retry); -3 when a required
-- group does not exist yet (it will start at the beginning: keep everything).
local consumer_count = tonumber(ARGV[1])
local plan = ARGV[2] == 'plan'
local given = {}
for i = 3, consumer_count + 2 do
  given[ARGV[i]] = true
end
for _, name in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if not given[name] then
    return -2
  end
end

-- Ids are 64-bit integers and Lua's doubles lose precision beyond 2^53, so the parts are
-- compared as decimal strings without leading zeros: the longer is larger, then lexically.
local function canonical(digits)
  local stripped = string.match(digits, '^0*(%d-)$')
  if stripped == '' then
    return '0'
  end
  return stripped
end
-- `what` names the id in an error: 'offset in <key>', 'group <name>'...
local function parse(id, what)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  if not ms then
    ms, seq = string.match(id, '^(%d+)$'), '0'
  end
  if not ms then
    return nil, redis.error_reply('invalid ' .. what .. ': ' .. id)
  end
  return { canonical(ms), canonical(seq) }
end
local function less(a, b)
  if a[1] ~= b[1] then
    if #a[1] ~= #b[1] then
      return #a[1] < #b[1]
    end
    return a[1] < b[1]
  end
  if #a[2] ~= #b[2] then
    return #a[2] < #b[2]
  end
  return a[2] < b[2]
end
local function same(a, b)
  return a[1] == b[1] and a[2] == b[2]
end

-- The bound: the smallest id anybody still cares about, and whether that entry itself may
-- go (delivered or committed) or must stay (pending). At equal ids, staying wins.
local bound, bound_deletable
local function consider(id, deletable)
  if not bound or less(id, bound) then
    bound, bound_deletable = id, deletable
  elseif same(id, bound) then
    bound_deletable = bound_deletable and deletable
  end
end

local offsets = {}
for i = 3, #KEYS do
  local offset = redis.call('GET', KEYS[i])
  if not offset then
    return -1
  end
  local id, err = parse(offset, 'offset in ' .. KEYS[i])
  if not id then
    return err
  end
  offsets[#offsets + 1] = { id, KEYS[i], offset }
  consider(id, true)
end

if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local groups = {}
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #group, 2 do
    fields[group[i]] = group[i + 1]
  end
  groups[fields['name']] = true
  local delivered, err = parse(fields['last-delivered-id'], 'last-delivered-id of group ' .. fields['name'])
  if not delivered then
    return err
  end
  consider(delivered, true)
  if fields['pending'] > 0 then
    local oldest = parse(redis.call('XPENDING', KEYS[1], fields['name'])[2], 'pending id')
    consider(oldest, false)
  end
end
for i = consumer_count + 3, #ARGV do
  if not groups[ARGV[i]] then
    return -3
  end
end
if not bound then
  return 0
end

local info = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then
    local last = parse(info[i + 1], 'last-generated-id')
    -- An offset beyond it was tampered with (its consumer stalls on it): keep everything.
    for _, offset in ipairs(offsets) do
      if less(last, offset[1]) then
        return redis.error_reply(
          'offset in ' .. offset[2] .. ' (' .. offset[3] .. ') is beyond the last id the stream generated ('
            .. info[i + 1] .. '); not trimming'
        )
      end
    end
    consider(last, true)
  end
end

-- XTRIM MINID keeps the ids >= its threshold.
local bound_id = bound[1] .. '-' .. bound[2]
if plan then
  return { bound_id, bound_deletable and 1 or 0 }
end
local deleted = redis.call('XTRIM', KEYS[1], 'MINID', bound_id)
if bound_deletable then
  deleted = deleted + redis.call('XDEL', KEYS[1], bound_id)
end
return deleted
