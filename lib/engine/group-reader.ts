import type { GroupMembership } from './group-membership';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import type { RawStreamEntry } from './message-parser';
import type { RedisClient } from './redis-connection';
import { compareStreamIds } from './stream-id';

/** Who reads: one member of one group on one stream key. */
export interface GroupReaderTarget {
  /** The stream's Redis key (`<base>:stream:<stream>`). */
  streamKey: string;
  group: string;
  member: string;
}

/** Entries read for a member, and the ones Redis reported as deleted while pending. */
export interface GroupReadResult {
  /** Entries with their fields, in stream order. */
  entries: RawStreamEntry[];
  /** Ids that were pending but whose entries were deleted (XDEL, trimming): already acked. */
  deletedIds: string[];
}

/** A page of this member's own pending entries. */
export interface PendingPage extends GroupReadResult {
  /** Where the next page starts (exclusive); `undefined` when this page was the last. */
  nextAfterId?: string;
}

/** Entries taken over from idle members by one {@link GroupReader.claimIdle} call. */
export interface ClaimResult extends GroupReadResult {
  /** True when the scan reached the end of the pending entries list (and starts over next time). */
  scanComplete: boolean;
}

/** The delivery bookkeeping of one pending entry. */
export interface PendingEntryState {
  /** How often Redis delivered it (each read of it as pending, each claim counts). */
  deliveries: number;
  /** Time since its last delivery, in ms. */
  idleMs: number;
}

type StreamReply = [key: string, entries: [id: string, fields: string[] | null][]][] | null;

/**
 * The reads of one group member: its own pending entries first (carmine-streams), new
 * entries with a blocking XREADGROUP on a connection the caller provides (so that a
 * watched BlockingReader can run it), and entries taken over from dead or stuck members
 * with XAUTOCLAIM. Entries deleted while pending are acked and logged wherever Redis reports
 * them, so they never stay pending for ever.
 *
 * With a {@link GroupMembership}, every group command survives the group being deleted by
 * hand (it is recreated, see `GroupMembership.withGroup`).
 */
export class GroupReader {
  readonly streamKey: string;
  readonly group: string;
  readonly member: string;
  private claimCursor = '0-0';

  constructor(
    /** The non-blocking connection for reads without BLOCK, claims and acks. */
    private readonly client: RedisClient,
    target: GroupReaderTarget,
    private readonly logger: RedstreamLogger,
    /** How the owner is named in logs. */
    private readonly label: string,
    private readonly membership?: GroupMembership,
  ) {
    this.streamKey = target.streamKey;
    this.group = target.group;
    this.member = target.member;
  }

  /**
   * Up to `count` of this member's own pending entries with ids above `afterId` (`'0'`: from
   * the first). Each such read counts a delivery in Redis. Handle them before new ones; page
   * on with `nextAfterId` until it is undefined.
   */
  async readPending(count: number, afterId = '0'): Promise<PendingPage> {
    const reply = (await this.withGroup(() =>
      this.client.xreadgroup('GROUP', this.group, this.member, 'COUNT', count, 'STREAMS', this.streamKey, afterId),
    )) as StreamReply;
    const raw = reply?.[0]?.[1] ?? [];
    const { entries, deletedIds } = await this.separateDeleted(raw, 'pending');
    return { entries, deletedIds, nextAfterId: raw.length < count ? undefined : raw[raw.length - 1][0] };
  }

  /**
   * Up to `count` entries never delivered to any member of the group, waiting up to
   * `blockMs` (none: no wait) for the first. Run it on `client` when that is a blocking
   * connection of its own, e.g. `blockingReader.watch(blockMs, (c) => reader.readNew(n, blockMs, c))`.
   * Returns `[]` when nothing arrived.
   */
  async readNew(count: number, blockMs?: number, client: RedisClient = this.client): Promise<RawStreamEntry[]> {
    const block = blockMs === undefined ? [] : ['BLOCK', blockMs];
    const reply = (await this.withGroup(() =>
      client.xreadgroup(
        'GROUP',
        this.group,
        this.member,
        'COUNT',
        count,
        ...(block as ['BLOCK', number]),
        'STREAMS',
        this.streamKey,
        '>',
      ),
    )) as StreamReply;
    // New entries are read the moment they exist: none can have been deleted before.
    return (reply?.[0]?.[1] ?? []) as RawStreamEntry[];
  }

  /**
   * Takes over up to `count` entries that have been pending (with any member, this one
   * included) for at least `minIdleMs` with XAUTOCLAIM. Follows the cursor until `count`
   * entries are claimed or the end of the pending list is reached; the next call goes on
   * from where this one stopped. Each claim counts a delivery. Entries deleted while
   * pending are acked and logged.
   */
  async claimIdle(minIdleMs: number, count: number): Promise<ClaimResult> {
    const entries: RawStreamEntry[] = [];
    const deletedIds: string[] = [];
    let scanComplete = false;
    while (entries.length < count && !scanComplete) {
      const [cursor, claimed, deleted] = (await this.withGroup(() =>
        this.client.xautoclaim(
          this.streamKey,
          this.group,
          this.member,
          minIdleMs,
          this.claimCursor,
          'COUNT',
          count - entries.length,
        ),
      )) as [string, [string, string[] | null][], string[]?];
      this.claimCursor = cursor;
      scanComplete = cursor === '0-0';
      const separated = await this.separateDeleted(claimed, 'claimed');
      entries.push(...separated.entries);
      deletedIds.push(...separated.deletedIds);
      // Redis 7 drops deleted ids from the pending list itself and reports them here; the
      // ack is for older servers' sake and is harmless.
      if (deleted && deleted.length > 0) {
        await this.ack(deleted);
        deletedIds.push(...deleted);
        this.logDeleted(deleted, 'claimed');
      }
    }
    return { entries, deletedIds, scanComplete };
  }

  /** Acknowledges handled entries; returns how many were still pending. */
  async ack(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    // XACK on a missing group or stream is a no-op, never NOGROUP: nothing to recreate.
    return this.client.xack(this.streamKey, this.group, ...ids);
  }

  /**
   * The delivery count and idle time of each of `ids` still pending with this member;
   * ids not (or no longer) pending with it are absent from the map.
   */
  async pendingState(ids: readonly string[]): Promise<Map<string, PendingEntryState>> {
    const wanted = new Set(ids);
    const states = new Map<string, PendingEntryState>();
    if (wanted.size === 0) return states;
    const sorted = [...wanted].sort(compareStreamIds);
    const last = sorted[sorted.length - 1];
    const pageSize = Math.max(100, wanted.size);
    let from = sorted[0];
    for (;;) {
      const page = (await this.client.xpending(this.streamKey, this.group, from, last, pageSize, this.member)) as [
        id: string,
        member: string,
        idleMs: number,
        deliveries: number,
      ][];
      for (const [id, , idleMs, deliveries] of page) {
        if (wanted.has(id)) states.set(id, { deliveries, idleMs });
      }
      if (page.length < pageSize) return states;
      from = `(${page[page.length - 1][0]}`;
    }
  }

  private withGroup<T>(command: () => Promise<T>): Promise<T> {
    return this.membership ? this.membership.withGroup(command) : command();
  }

  private async separateDeleted(
    raw: readonly [string, string[] | null][],
    how: 'pending' | 'claimed',
  ): Promise<GroupReadResult> {
    const entries: RawStreamEntry[] = [];
    const deletedIds: string[] = [];
    for (const [id, fields] of raw) {
      if (fields === null) deletedIds.push(id);
      else entries.push([id, fields]);
    }
    if (deletedIds.length > 0) {
      await this.ack(deletedIds);
      this.logDeleted(deletedIds, how);
    }
    return { entries, deletedIds };
  }

  private logDeleted(ids: readonly string[], how: 'pending' | 'claimed'): void {
    const shown = ids.length > 10 ? `${ids.slice(0, 10).join(', ')}, ...` : ids.join(', ');
    this.logger.warn(
      `${this.label}: ${ids.length} ${how} entr${ids.length === 1 ? 'y was' : 'ies were'} deleted from the stream ` +
        `before being handled (XDEL or trimming); acknowledged without handling: ${shown}`,
      { ids: ids.join(',') },
    );
  }
}
