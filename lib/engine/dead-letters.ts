import { RedstreamConfigError } from './errors';
import { positiveInteger } from './option-validation';
import type { RedisClient } from './redis-connection';
import { RedstreamKeys, validateStreamName } from './redstream-keys';
import { scripts } from './scripts';
import { isStreamId } from './stream-id';

/** The longest last-error message kept in a dead letter; longer ones are cut. */
export const MAX_DEAD_LETTER_ERROR_LENGTH = 2_000;

/** Dead letters listed per page unless `count` says otherwise. */
export const DEFAULT_DEAD_LETTER_PAGE_SIZE = 100;

/** Who gave up on an entry: a member of a consumer group, or an offset consumer. */
export type DeadLetterSource =
  | { kind: 'group'; group: string; member: string }
  | {
      kind: 'consumer';
      consumer: string;
      /** The instance, e.g. its lock owner id; optional. */
      member?: string;
      /** Writes only while this lock is still held by `ownerId`, like an offset commit. */
      fence?: { lockKey: string; ownerId: string };
    };

/** What became of one dead-letter write. */
export type DeadLetterWriteResult =
  | { status: 'written'; deadLetterId: string }
  /** Group: the entry is no longer this member's (claimed by another, acked). Consumer: the lock is lost. */
  | { status: 'not-owner' }
  /** The entry was deleted from the stream meanwhile (a group: it was acked). */
  | { status: 'deleted' };

/** One entry of a dead-letter stream. */
export interface DeadLetter {
  /** Its id in `<stream>.dead`. */
  id: string;
  /** The original entry's id in the stream. */
  originalId: string;
  /** The original `payload` field, unchanged (undefined if the entry had none). */
  payload?: string;
  /** The group that gave up on it, for group consumers. */
  group?: string;
  /** The offset consumer that gave up on it. */
  consumer?: string;
  /** The member (instance) that wrote the dead letter. */
  member?: string;
  /** How often it was delivered (groups) or attempted on its own (offset consumers). */
  deliveries: number;
  /** The last error's message, cut at {@link MAX_DEAD_LETTER_ERROR_LENGTH} characters. */
  error: string;
  /** When it was written, in ms since the epoch (Redis's clock). */
  deadAt: number;
}

/** A page of dead letters; pass `nextStart` as `start` for the next page. */
export interface DeadLetterPage {
  deadLetters: DeadLetter[];
  /** The start of the next page; undefined after the last page. */
  nextStart?: string;
}

/** The result of a replay. */
export interface ReplayResult {
  /** Each replayed dead letter with the id of its new entry in the stream, in order. */
  replayed: { deadLetterId: string; entryId: string }[];
  /** Requested ids that were not (or no longer) in the dead-letter stream. */
  missing: string[];
}

/** The message of a thrown value, cut to a size a stream entry should carry. */
export function deadLetterErrorMessage(error: unknown): string {
  const message =
    error instanceof Error ? `${error.name}: ${error.message}` : `a non-Error was thrown: ${String(error)}`;
  return message.length > MAX_DEAD_LETTER_ERROR_LENGTH
    ? `${message.slice(0, MAX_DEAD_LETTER_ERROR_LENGTH - 3)}...`
    : message;
}

/**
 * The dead-letter streams (`<stream>.dead`): writing an entry a consumer gave up on (with
 * its group's ack in the same script), and the operator's list, replay and drop. A dead
 * letter and its stream share a hash slot when the stream name is hash-tagged, which a
 * Redis Cluster needs for the scripts.
 */
export class DeadLetters {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedstreamKeys,
  ) {}

  /**
   * Moves entry `entryId` of `stream` to `<stream>.dead` with `error` as its last error.
   * For a group the original is acked in the same step, and only if it is still pending
   * with `source.member`. `attempts` is recorded as the delivery count for an offset
   * consumer; a group records Redis's own count.
   */
  async write(
    stream: string,
    entryId: string,
    source: DeadLetterSource,
    failure: { error: unknown; attempts?: number },
  ): Promise<DeadLetterWriteResult> {
    validateStreamName(stream);
    validateIds([entryId], 'DeadLetters.write');
    const keys = [this.keys.stream(stream), this.keys.deadLetterStream(stream)];
    const message = deadLetterErrorMessage(failure.error);
    const args: (string | number)[] =
      source.kind === 'group'
        ? [entryId, 'group', source.group, source.member, 0, message]
        : [entryId, 'consumer', source.consumer, source.member ?? '', failure.attempts ?? 0, message];
    if (source.kind === 'consumer' && source.fence) {
      keys.push(source.fence.lockKey);
      args.push(source.fence.ownerId);
    }
    const [status, deadLetterId] = (await scripts.deadLetterEntry.run(this.client, keys, args)) as [number, string?];
    if (status === 1) return { status: 'written', deadLetterId: deadLetterId! };
    return status === 0 ? { status: 'not-owner' } : { status: 'deleted' };
  }

  /** Lists the dead letters of `stream`, oldest first, from `start` (inclusive), `count` per page. */
  async list(stream: string, options: { start?: string; count?: number } = {}): Promise<DeadLetterPage> {
    validateStreamName(stream);
    const start = options.start ?? '-';
    if (start !== '-') validateIds([start.replace(/^\(/, '')], 'DeadLetters.list: start');
    const count =
      options.count === undefined
        ? DEFAULT_DEAD_LETTER_PAGE_SIZE
        : positiveInteger(options.count, 'DeadLetters.list: count');
    // One more than asked tells whether another page follows without an empty last page.
    const raw = (await this.client.xrange(this.keys.deadLetterStream(stream), start, '+', 'COUNT', count + 1)) as [
      string,
      string[],
    ][];
    const deadLetters = raw.slice(0, count).map(([id, fields]) => toDeadLetter(id, fields));
    return raw.length > count ? { deadLetters, nextStart: raw[count][0] } : { deadLetters };
  }

  /** How many dead letters `stream` has. */
  count(stream: string): Promise<number> {
    return this.client.xlen(this.keys.deadLetterStream(validateStreamName(stream)));
  }

  /**
   * Writes the payloads of the dead letters `ids` (default: every dead letter there is when
   * the call starts) back to `stream` as new entries, oldest first, deleting each dead letter
   * in the same script as its new entry is written: interrupted at any point, every dead
   * letter is either replayed once or still in `.dead`.
   */
  async replay(stream: string, options: { ids?: readonly string[] } = {}): Promise<ReplayResult> {
    validateStreamName(stream);
    const keys = [this.keys.deadLetterStream(stream), this.keys.stream(stream)];
    const ids = options.ids ? validateIds(options.ids, 'DeadLetters.replay: ids') : await this.allIds(stream);
    const result: ReplayResult = { replayed: [], missing: [] };
    for (const deadLetterId of ids) {
      const entryId = (await scripts.replayDeadLetter.run(this.client, keys, [deadLetterId])) as string | null;
      if (entryId === null) result.missing.push(deadLetterId);
      else result.replayed.push({ deadLetterId, entryId });
    }
    return result;
  }

  /** Deletes the dead letters `ids`, or all of them; returns how many were deleted. */
  async drop(stream: string, options: { ids?: readonly string[] } = {}): Promise<number> {
    validateStreamName(stream);
    const key = this.keys.deadLetterStream(stream);
    if (options.ids === undefined) return this.client.xtrim(key, 'MAXLEN', 0);
    const ids = validateIds(options.ids, 'DeadLetters.drop: ids');
    return ids.length === 0 ? 0 : this.client.xdel(key, ...ids);
  }

  // Snapshot of the ids present now: an entry that dies again while it is being replayed
  // gets a new dead letter, which this replay must not pick up (it would never end).
  private async allIds(stream: string): Promise<string[]> {
    const ids: string[] = [];
    let start = '-';
    for (;;) {
      const raw = (await this.client.xrange(this.keys.deadLetterStream(stream), start, '+', 'COUNT', 1_000)) as [
        string,
        string[],
      ][];
      ids.push(...raw.map(([id]) => id));
      if (raw.length < 1_000) return ids;
      start = `(${raw[raw.length - 1][0]}`;
    }
  }
}

function validateIds(ids: readonly string[], what: string): string[] {
  if (!Array.isArray(ids)) throw new RedstreamConfigError(`${what} must be an array of stream ids`);
  for (const id of ids) {
    if (typeof id !== 'string' || !isStreamId(id)) {
      throw new RedstreamConfigError(`${what}: ${JSON.stringify(id)} is not a Redis stream id (expected <ms>-<seq>)`);
    }
  }
  return [...ids];
}

function toDeadLetter(id: string, raw: string[]): DeadLetter {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) fields[raw[i]] = raw[i + 1];
  return {
    id,
    originalId: fields.original_id,
    ...(fields.payload === undefined ? {} : { payload: fields.payload }),
    ...(fields.group === undefined ? {} : { group: fields.group }),
    ...(fields.consumer === undefined ? {} : { consumer: fields.consumer }),
    ...(fields.member === undefined ? {} : { member: fields.member }),
    deliveries: Number(fields.deliveries),
    error: fields.error ?? '',
    deadAt: Number(fields.dead_at),
  };
}
