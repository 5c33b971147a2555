-- The server's clock, on the node that holds KEYS[1]: on a Redis Cluster a plain TIME goes to
-- any node, whose clock may differ from the one that stamped the stream's entry ids.
-- KEYS[1] the stream whose entries are compared with the time. Returns TIME's reply.
return redis.call('TIME')
