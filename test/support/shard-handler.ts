import type { RedisClient } from '../../lib/engine';

/**
 * The handler of the shard-balancing tests, the same in the test process and in child
 * processes: it records every id it handles in `<prefix>:handled:<stream>`, and in
 * `<prefix>:overlaps` every batch that began while another owner's batch of the same shard was
 * still in its handler (two owners at once; a marker left by an owner killed in its handler
 * expires after 1 s, well before its lock).
 */
export function recordingShardHandler(
  client: RedisClient,
  prefix: string,
  stream: string,
  handlerMs = 0,
): (messages: { id: string }[]) => Promise<void> {
  const busy = `${prefix}:busy:${stream}`;
  return async (messages) => {
    const ids = messages.map((message) => message.id);
    // Expires on its own: an owner killed in its handler never clears it (takeover needs longer).
    const token = `${process.pid}-${ids[0]}-${Math.random()}`;
    if ((await client.set(busy, token, 'PX', 1_000, 'NX')) !== 'OK') {
      await client.rpush(`${prefix}:overlaps`, `${stream} ${ids[0]}`);
    }
    try {
      if (handlerMs) await new Promise((resolve) => setTimeout(resolve, handlerMs));
      await client.rpush(`${prefix}:handled:${stream}`, ...ids);
    } finally {
      if ((await client.get(busy)) === token) await client.del(busy);
    }
  };
}
