-- Where a stream stands, from XINFO STREAM, without its first and last entries' fields (which
-- XINFO would send along, however large).
-- KEYS[1] stream. Returns false when the stream does not exist, else {length,
-- last-generated-id, first entry's id or '', max-deleted-entry-id or '', entries-added or -1}
-- (the last two are Redis 7's; '' and -1 on Redis 6).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local fields = {}
for i = 1, #info, 2 do
  fields[info[i]] = info[i + 1]
end
local first = ''
if fields['first-entry'] then
  first = fields['first-entry'][1]
end
return {
  fields['length'],
  fields['last-generated-id'],
  first,
  fields['max-deleted-entry-id'] or '',
  fields['entries-added'] or -1,
}
