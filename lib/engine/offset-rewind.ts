import type { RedisClient } from './redis-connection';
import { consumerLockName, RedstreamKeys, validateConsumerName, validateStreamName } from './redstream-keys';
import { scripts } from './scripts';
import { compareStreamIds, isStreamId } from './stream-id';
import { readStreamPosition } from './stream-position';
import { RedstreamConfigError } from './errors';
import { rewindInvalidId, rewindInvalidTime } from './offset-rewind.messages';

/**
 * Where a rewound consumer goes on: the beginning of the stream, its end (nothing is read
 * again), or the first entry at or after an id or a time (ms since the epoch, on the clock
 * that stamped the ids).
 */
export type RewindTarget =
  { kind: 'start' } | { kind: 'end' } | { kind: 'id'; id: string } | { kind: 'time'; ms: number };

/** What a rewind did. */
export type RewindResult =
  | {
      status: 'rewound';
      /** The offset before; null when the consumer had not committed. */
      previous: string | null;
      /** The committed offset now: the consumer reads the entries after it. */
      offset: string;
      /** With `force`: the owner id of the instance that held the lock meanwhile. */
      owner?: string;
    }
  /** Refused: an instance holds the consumer's lock (`owner` is its id). */
  | { status: 'active'; owner: string };

const START = '0-0';

/**
 * Sets the committed offset of offset consumer `consumer` of `stream` so that it reads from
 * `target` on, in the gem's format (the id of the last entry handled, `0-0` for none). Refused
 * while an instance holds the consumer's lock, unless `force`: a running consumer keeps its
 * own position in memory and its next commit would overwrite the new offset.
 */
export async function rewindOffset(
  client: RedisClient,
  keys: RedstreamKeys,
  stream: string,
  consumer: string,
  target: RewindTarget,
  options: { force?: boolean } = {},
): Promise<RewindResult> {
  validateStreamName(stream);
  validateConsumerName(consumer);
  const offset = await offsetFor(client, keys.stream(stream), target);
  const [applied, previousOrOwner, owner] = (await scripts.rewindOffset.run(
    client,
    [keys.lock(consumerLockName(stream, consumer)), keys.offset(stream, consumer)],
    [offset, options.force === true ? 'force' : ''],
  )) as [number, string, string?];
  if (Number(applied) === 0) return { status: 'active', owner: previousOrOwner };
  return {
    status: 'rewound',
    previous: previousOrOwner === '' ? null : previousOrOwner,
    offset,
    ...(owner ? { owner } : {}),
  };
}

/** The offset that makes a consumer read from `target` on: the id of the entry before it. */
async function offsetFor(client: RedisClient, streamKey: string, target: RewindTarget): Promise<string> {
  switch (target.kind) {
    case 'start':
      return START;
    case 'end':
      return (await readStreamPosition(client, streamKey))?.lastGeneratedId ?? START;
    case 'id':
      if (!isStreamId(target.id)) {
        throw new RedstreamConfigError(rewindInvalidId(target.id));
      }
      return entryBefore(client, streamKey, target.id);
    case 'time':
      if (!Number.isSafeInteger(target.ms) || target.ms < 0) {
        throw new RedstreamConfigError(rewindInvalidTime(target.ms));
      }
      return entryBefore(client, streamKey, `${target.ms}-0`);
  }
}

// An existing entry rather than a computed predecessor id: what a consumer would have
// committed, and `0-0` when nothing precedes (everything left is read again).
async function entryBefore(client: RedisClient, streamKey: string, id: string): Promise<string> {
  if (compareStreamIds(id, START) <= 0) return START;
  const before = (await client.xrevrange(streamKey, `(${id}`, '-', 'COUNT', 1)) as [string, string[]][];
  return before[0]?.[0] ?? START;
}
