-- Counts the entries of a stream in an id range, inside Redis: XRANGE from a client would send
-- every entry's fields along only to be counted.
-- KEYS[1] stream; ARGV[1] start, ARGV[2] end (XRANGE bounds, '(' for exclusive), ARGV[3] the
-- most entries to count. Returns {count, first id or '', last id or ''}.
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])
local count = #entries
if count == 0 then
  return {0, '', ''}
end
return {count, entries[1][1], entries[count][1]}
