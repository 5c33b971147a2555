-- Sets a consumer's committed offset by hand (an operator's rewind), refused while an
-- instance holds the consumer's lock unless forced: checked and set in one step, so that no
-- consumer can become active in between.
-- KEYS[1] lock key, KEYS[2] offset key; ARGV[1] new offset, ARGV[2] 'force' or ''.
-- Returns {0, owner id} when refused, else {1, previous offset or '', owner id or ''}.
local owner = redis.call('GET', KEYS[1])
if owner and ARGV[2] ~= 'force' then
  return { 0, owner }
end
local previous = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1])
return { 1, previous or '', owner or '' }
