import { GroupInfo, groupInfo, groupInfoFromRecord, XinfoGroupRecord } from './group-info';
import type { ConsumerLag, DelayBacklog, GroupLag, LagOptions, StreamLag } from './interfaces/lag.interface';
import { positiveInteger } from './option-validation';
import type { RedisClient } from './redis-connection';
import {
  delayStreamName,
  RedstreamKeys,
  validateConsumerName,
  validateGroupName,
  validateStreamName,
} from './redstream-keys';
import { entryAgeMs, serverTimeMs } from './server-clock';
import { countRange } from './stream-count';
import { compareStreamIds, streamIdTimestamp } from './stream-id';
import { readStreamPosition, StreamPosition } from './stream-position';

/** How many entries a lag reads at most, each side of the offset, when Redis cannot tell the count. */
export const DEFAULT_LAG_MAX_COUNT = 10_000;

type Lag = Omit<StreamLag, 'stream'>;

const NOTHING_WAITING: Lag = { entries: 0, oldestAgeMs: 0, exact: true };

/**
 * Reads how far consumers, groups and the Delayer are behind, from Redis alone (it knows
 * nothing of the workers of this process), cheaply enough to poll every few seconds.
 *
 * Cost per call, measured on a stream of 1,000,000 entries (Redis 7, a 2-core machine under a
 * load average of 4, 20 calls averaged): an offset before the stream's first entry or at its
 * end (a consumer that never committed or whose entries were trimmed, one that keeps up) costs
 * three O(1) commands, 0.5 to 1 ms, as does `delayBacklog`; a group whose lag Redis knows 3 ms.
 * An offset inside the stream adds a count of the entries after it, in a script so that no
 * entry travels (14 ms for 5,000), and when more than `maxCount` follow, a count of those
 * before it: 37 ms at the default 10,000 with the count exact, 54 ms when both sides exceed it
 * and the count is estimated (483,580 for 499,999: the ids' timestamps of a steady stream). A
 * group whose lag Redis cannot tell costs about the same (27 ms).
 */
export class StreamLagReader {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedstreamKeys,
  ) {}

  /** The lag of offset consumer `consumer` of `stream`: the entries after its committed offset. */
  async consumerLag(stream: string, consumer: string, options: LagOptions = {}): Promise<ConsumerLag> {
    validateStreamName(stream);
    validateConsumerName(consumer);
    const maxCount = resolveMaxCount(options, 'Redstream.lag');
    const key = this.keys.stream(stream);
    const [offset, position, nowMs] = await Promise.all([
      this.client.get(this.keys.offset(stream, consumer)),
      readStreamPosition(this.client, key),
      serverTimeMs(this.client, key),
    ]);
    // A consumer that never committed reads from the start.
    const lag = await this.lagAfter(key, offset ?? '0-0', position, nowMs, maxCount);
    return { stream, consumer, offset, ...lag };
  }

  /**
   * The lag of consumer group `group` of `stream` (from `groupInfo`): entries not delivered
   * yet, and those pending; undefined when the stream or the group does not exist.
   */
  async groupLag(stream: string, group: string, options: LagOptions = {}): Promise<GroupLag | undefined> {
    validateStreamName(stream);
    validateGroupName(group);
    const maxCount = resolveMaxCount(options, 'Redstream.groupLag');
    return this.lagOfGroup(stream, group, maxCount, (maxLagCount, nowMs) =>
      groupInfo(this.client, this.keys, stream, group, { maxLagCount, nowMs }),
    );
  }

  /**
   * {@link groupLag} from the group's XINFO GROUPS record, already read by the caller
   * (`Redstream.status()` reads every group of a stream at once): the same figures, without
   * reading the groups a second time.
   */
  async groupLagFromRecord(
    stream: string,
    record: XinfoGroupRecord,
    options: LagOptions = {},
  ): Promise<GroupLag | undefined> {
    validateStreamName(stream);
    const group = validateGroupName(record.name);
    const maxCount = resolveMaxCount(options, 'Redstream.groupLag');
    return this.lagOfGroup(stream, group, maxCount, (maxLagCount, nowMs) =>
      groupInfoFromRecord(this.client, this.keys, stream, record, { maxLagCount, nowMs }),
    );
  }

  private async lagOfGroup(
    stream: string,
    group: string,
    maxCount: number,
    readInfo: (maxLagCount: number, nowMs: Promise<number>) => Promise<GroupInfo | undefined>,
  ): Promise<GroupLag | undefined> {
    const key = this.keys.stream(stream);
    // One clock read for the group's pending age and its lag age.
    const now = serverTimeMs(this.client, key);
    const [info, position, nowMs] = await Promise.all([
      readInfo(maxCount, now),
      readStreamPosition(this.client, key),
      now,
    ]);
    if (!info) return undefined;
    let lag: Lag = NOTHING_WAITING;
    if (info.lag > 0) {
      const next = await this.nextIdAfter(key, info.lastDeliveredId);
      const oldestAgeMs = next === undefined ? 0 : entryAgeMs(next, nowMs);
      lag =
        info.lagSource === 'at-least' && position
          ? { ...(await this.countBefore(key, info.lastDeliveredId, position, maxCount)), oldestAgeMs }
          : { entries: info.lag, oldestAgeMs, exact: true };
    }
    return {
      stream,
      group,
      ...lag,
      lastDeliveredId: info.lastDeliveredId,
      pending: info.pending,
      oldestPendingAgeMs: info.oldestPending?.ageMs ?? 0,
    };
  }

  /**
   * The delay messages of `stream` not re-queued yet. The Delayer deletes what it re-queues
   * (and a producer deletes its own once the immediate write succeeded), so every entry of
   * the delay stream waits: its length, exact and O(1).
   */
  async delayBacklog(stream: string): Promise<DelayBacklog> {
    validateStreamName(stream);
    const delayStream = delayStreamName(stream);
    const key = this.keys.stream(delayStream);
    const [position, nowMs] = await Promise.all([readStreamPosition(this.client, key), serverTimeMs(this.client, key)]);
    if (!position?.firstId) return { stream, delayStream, ...NOTHING_WAITING };
    return {
      stream,
      delayStream,
      entries: position.length,
      oldestAgeMs: entryAgeMs(position.firstId, nowMs),
      exact: true,
    };
  }

  /** Entries of the stream at `key` after `after`, from the stream's counters where they tell. */
  private async lagAfter(
    key: string,
    after: string,
    position: StreamPosition | null,
    nowMs: number,
    maxCount: number,
  ): Promise<Lag> {
    if (!position?.firstId || compareStreamIds(after, position.lastGeneratedId) >= 0) return NOTHING_WAITING;
    // Everything at or below the offset is gone (trimmed): every entry left waits.
    if (compareStreamIds(after, position.firstId) < 0) {
      return { entries: position.length, oldestAgeMs: entryAgeMs(position.firstId, nowMs), exact: true };
    }
    // Inside the stream Redis keeps no rank: count the shorter side, within `maxCount`.
    const waiting = await countRange(this.client, key, `(${after}`, '+', maxCount);
    const oldestAgeMs = waiting.firstId === undefined ? 0 : entryAgeMs(waiting.firstId, nowMs);
    if (waiting.complete) return { entries: waiting.count, oldestAgeMs, exact: true };
    return { ...(await this.countBefore(key, after, position, maxCount)), oldestAgeMs };
  }

  /**
   * The entries after `after` when more than `maxCount` follow it: the stream's length minus
   * those at or below it, when at most `maxCount`; else an estimate.
   */
  private async countBefore(
    key: string,
    after: string,
    position: StreamPosition,
    maxCount: number,
  ): Promise<Omit<Lag, 'oldestAgeMs'>> {
    const handled = await countRange(this.client, key, '-', after, maxCount);
    // Entries added since XINFO can only make the true count larger.
    if (handled.complete) return { entries: Math.max(maxCount + 1, position.length - handled.count), exact: true };
    return estimate(position, after, maxCount + 1);
  }

  private async nextIdAfter(key: string, after: string): Promise<string | undefined> {
    const next = (await this.client.xrange(key, `(${after}`, '+', 'COUNT', 1)) as [string, string[]][];
    return next[0]?.[0];
  }
}

function resolveMaxCount(options: LagOptions, where: string): number {
  return options.maxCount === undefined
    ? DEFAULT_LAG_MAX_COUNT
    : positiveInteger(options.maxCount, `${where}: maxCount`);
}

/**
 * The entries after `after`, when more than `atLeast` are on each side: the share of the
 * stream's time span after the offset, times its length (steady writes make it close), kept
 * within what the counts prove.
 */
function estimate(position: StreamPosition, after: string, atLeast: number): Omit<Lag, 'oldestAgeMs'> {
  const atMost = Math.max(atLeast, position.length - atLeast);
  const firstMs = streamIdTimestamp(position.firstId ?? after);
  const lastMs = streamIdTimestamp(position.lastGeneratedId);
  const share = lastMs > firstMs ? (lastMs - streamIdTimestamp(after)) / (lastMs - firstMs) : 0.5;
  const entries = Math.min(atMost, Math.max(atLeast, Math.round(position.length * share)));
  return { entries, exact: false, entriesAtLeast: atLeast, entriesAtMost: atMost };
}
