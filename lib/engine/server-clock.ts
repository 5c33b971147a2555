import type { RedisClient } from './redis-connection';
import { scripts } from './scripts';
import { streamIdTimestamp } from './stream-id';

/**
 * Redis's clock on the node that holds `key`, in ms since the epoch: the clock that stamped
 * the ids of the stream at `key`. A plain TIME would do on one node, but on a Cluster it goes
 * to any node, whose clock may differ; hence a script keyed on the stream.
 */
export async function serverTimeMs(client: RedisClient, key: string): Promise<number> {
  const [seconds, micros] = (await scripts.serverTime.run(client, [key], [])) as [string | number, string | number];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * How long ago the entry with id `id` was written, at `nowMs` from {@link serverTimeMs} of its
 * stream: 0, never less, for an id ahead of the clock (one given explicitly, or a clock set back).
 */
export function entryAgeMs(id: string, nowMs: number): number {
  return Math.max(0, nowMs - streamIdTimestamp(id));
}
