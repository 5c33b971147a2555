import type { RedisClient } from './redis-connection';
import { consumerLockName, RedstreamKeys, validateConsumerName, validateStreamName } from './redstream-keys';
import { scripts } from './scripts';
import { compareStreamIds, isStreamId } from './stream-id';
import { readStreamPosition } from './stream-position';
import { RedstreamConfigError } from './errors';
import { rewindInvalidId, rewindInvalidTarget, rewindInvalidTime } from './offset-rewind.messages';

/**
 * Where a rewound consumer goes on: the beginning of the stream, its end (nothing is read
 * again), or the first entry at or after an id or a time (ms since the epoch, on the clock
 * that stamped the ids).
 */
export type RewindTarget =
  { kind: 'start' } | { kind: 'end' } | { kind: 'id'; id: string } | { kind: 'time'; ms: number };

/**
 * An ISO 8601 date (2026-11-30, midnight UTC) or date and time, with an optional offset (a time
 * without one is local to the process). `Date.parse` alone accepts far more ("1", "May 5"),
 * whose meaning varies between engines: only this form is read as a time.
 */
const ISO_8601_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Reads a rewind target as an operator writes it (the CLI's `--to`, the dashboard's `to`):
 * `start`, `end`, a stream id (the first entry to read again) or an ISO 8601 time (the first
 * entry written at or after it). Throws RedstreamConfigError naming the accepted forms.
 */
export function parseRewindTarget(value: unknown): RewindTarget {
  if (typeof value === 'string') {
    if (value === 'start' || value === 'end') return { kind: value };
    if (isStreamId(value)) return { kind: 'id', id: value };
    if (ISO_8601_TIME.test(value)) {
      const ms = Date.parse(value);
      // Before 1970 no entry id can be: refused here rather than by rewindOffset, in the same words.
      if (Number.isSafeInteger(ms) && ms >= 0) return { kind: 'time', ms };
    }
  }
  throw new RedstreamConfigError(rewindInvalidTarget(value));
}

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
