import type { RedisClient } from './redis-connection';
import { scripts } from './scripts';

/** Where a stream stands (XINFO STREAM without the entries). */
export interface StreamPosition {
  length: number;
  lastGeneratedId: string;
  /** The oldest entry still present; undefined when the stream is empty. */
  firstId?: string;
  /** The highest id ever deleted (XDEL, XTRIM); undefined before Redis 7. `0-0` when none. */
  maxDeletedId?: string;
  /** Entries ever added; undefined before Redis 7. */
  entriesAdded?: number;
}

/** The position of the stream at `key`, or null when it does not exist. */
export async function readStreamPosition(client: RedisClient, key: string): Promise<StreamPosition | null> {
  const reply = (await scripts.streamPosition.run(client, [key], [])) as
    [number, string, string, string, number] | null;
  if (!reply) return null;
  const [length, lastGeneratedId, firstId, maxDeletedId, entriesAdded] = reply;
  return {
    length: Number(length),
    lastGeneratedId,
    firstId: firstId === '' ? undefined : firstId,
    maxDeletedId: maxDeletedId === '' ? undefined : maxDeletedId,
    entriesAdded: Number(entriesAdded) < 0 ? undefined : Number(entriesAdded),
  };
}
