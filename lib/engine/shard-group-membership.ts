import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import type { RedisConnectionFactory } from './redis-connection';
import type { RedstreamKeys } from './redstream-keys';
import { scripts } from './scripts';
import { RedstreamConfigError } from './errors';
import { shardGroupHeartbeatFailed, shardGroupHandingOver, shardGroupMixesKinds } from './shard-group.messages';
import { withTimeout } from './with-timeout';

/** How long the last worker's stop waits for this instance's removal from the group. */
const LEAVE_WAIT_MS = 500;

/** Timing of a {@link ShardGroupMembership}, from the first worker of the group. */
export interface ShardGroupTiming {
  /** How long a heartbeat lives on the Redis clock, in ms: the workers' `lockTtlMs`. */
  ttlMs: number;
  /** How often the heartbeat is renewed and the live instances counted, in ms. */
  periodMs: number;
  /** How long this instance must have been over its share before it hands shards over, in ms. */
  balanceDelayMs: number;
}

/** One shard of a group, as the membership sees it: a worker's balanced lease. */
export interface ShardGroupMember {
  /** Asked to hand its lock over (this instance owns more than its share): finish the batch, release. */
  requestHandOver(): void;
  /** Its hand-over request was withdrawn (the share grew again before it handed over). */
  cancelHandOver(): void;
}

/**
 * This instance's place in a shard group: the workers (one per shard) of one group in one
 * {@link Redstream} share it. It keeps a heartbeat in `<base>:shard-group:<group>:instances`
 * (a sorted set scored by expiry on the Redis clock) while any of them runs, counts the live
 * instances (those that beat within the last two periods: a killed or frozen one stops
 * counting well before its locks expire), and so knows this instance's share:
 * `ceil(shards / instances)`.
 *
 * Its workers take a free shard only while this instance owns fewer than its share, and hand
 * shards over (finishing the batch in flight, then releasing the lock, which wakes a waiting
 * instance at once) when it has owned more than its share for `balanceDelayMs` without a
 * break: an instance that joins and leaves within that time moves no shard.
 *
 * Liveness is judged by heartbeats, ownership by the gem's locks: balancing decides who tries
 * to take a lock, never who holds it, so a Ruby consumer holding a shard's lock still excludes
 * every instance here.
 */
export class ShardGroupMembership {
  /** This instance in the group's set: random per Redstream, so two in one process are two instances. */
  readonly instanceId = randomBytes(12).toString('hex');
  private readonly key: string;
  private readonly shards = new Set<ShardGroupMember>();
  private readonly engaged = new Set<ShardGroupMember>();
  private readonly owned = new Set<ShardGroupMember>();
  private readonly reserved = new Set<ShardGroupMember>();
  private readonly handingOver = new Set<ShardGroupMember>();
  private instances = 1;
  private overSince?: number;
  private heartbeat?: NodeJS.Timeout;
  private dueTimer?: NodeJS.Timeout;
  private firstBeat?: Promise<void>;
  private beating?: Promise<void>;
  private capacityWaiters = new Set<() => void>();
  private closed = false;
  private failing = false;

  constructor(
    readonly group: string,
    private readonly connections: RedisConnectionFactory,
    keys: RedstreamKeys,
    private readonly logger: RedstreamLogger,
    readonly timing: ShardGroupTiming,
    /** The kind of worker whose shards the group balances: one kind per group. */
    readonly kind: ShardGroupWorkerKind,
  ) {
    this.key = keys.shardGroupInstances(group);
  }

  /** A beat within this many ms counts an instance as live: two periods, and a little. */
  private get freshMs(): number {
    return 2 * this.timing.periodMs + 250;
  }

  /** Live instances at the last heartbeat, this one included. */
  get liveInstances(): number {
    return this.instances;
  }

  /** The most shards this instance should own: `ceil(shards / live instances)`. */
  get share(): number {
    return Math.ceil(this.shards.size / Math.max(1, this.instances));
  }

  /** Shards whose lock this instance holds now. */
  get ownedCount(): number {
    return this.owned.size;
  }

  /** A shard (a worker) of the group on this instance; counted in the share from now on. */
  add(member: ShardGroupMember): void {
    this.shards.add(member);
  }

  /**
   * The worker runs (it tries to take its lock): the heartbeat starts with the first, and the
   * returned promise settles once this instance has been counted (a failed heartbeat too: the
   * worker's acquire then finds out whether Redis answers).
   */
  engage(member: ShardGroupMember): Promise<void> {
    this.engaged.add(member);
    if (!this.heartbeat && !this.closed) {
      const period = this.timing.periodMs;
      this.heartbeat = setInterval(() => void this.beat(), period);
      this.heartbeat.unref();
      this.firstBeat = this.beat();
    }
    return this.firstBeat ?? Promise.resolve();
  }

  /** The worker stopped: the last one to stop ends the heartbeat and leaves the set. */
  async disengage(member: ShardGroupMember): Promise<void> {
    this.dropOwned(member);
    this.engaged.delete(member);
    if (this.engaged.size > 0 || !this.heartbeat) return;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.firstBeat = undefined;
    this.clearDueTimer();
    this.overSince = undefined;
    // Unremoved (Redis slow or away), the heartbeat stops counting after two periods: the
    // others rebalance a little later; a stop must not wait for a reply that will not come.
    const left = this.connections
      .client()
      .zrem(this.key, this.instanceId)
      .catch(() => undefined);
    await withTimeout(left, LEAVE_WAIT_MS, () => undefined);
  }

  /**
   * Reserves room for one more shard if this instance owns fewer than its share (reservations
   * of acquires in flight count, so concurrent workers do not all pass); false when at share.
   */
  tryReserve(member: ShardGroupMember): boolean {
    if (this.owned.has(member) || this.reserved.has(member)) return true;
    if (this.owned.size + this.reserved.size >= this.share) return false;
    this.reserved.add(member);
    return true;
  }

  /** The reserved acquire settled: `held` says whether the lock was taken. */
  settleReservation(member: ShardGroupMember, held: boolean): void {
    this.reserved.delete(member);
    if (held) {
      this.owned.add(member);
      this.evaluate();
    } else {
      this.dropOwned(member);
      // The room it held is free again: the next worker waiting here tries its lock now.
      this.wakeCapacityWaiters();
    }
  }

  /** The worker no longer holds its lock (released, lost, handed over). */
  dropOwned(member: ShardGroupMember): void {
    this.reserved.delete(member);
    const wasOwned = this.owned.delete(member);
    if (this.handingOver.delete(member)) member.cancelHandOver();
    if (wasOwned) {
      this.evaluate();
      this.wakeCapacityWaiters();
    }
  }

  /**
   * Waits, without touching Redis, while this instance is at its share (or the room left is
   * taken by an acquire in flight): until a shard here is given up, an acquire here was
   * refused, or the live instances change (the share may have grown), `pollMs` passes, or
   * `signal` aborts. The notify list is left to instances under their share: a wake-up popped
   * here and not used would leave a released shard to the next poll.
   */
  waitForCapacity(signal: AbortSignal, pollMs: number): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.capacityWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      signal.addEventListener('abort', done, { once: true });
      this.capacityWaiters.add(done);
    });
  }

  /** Stops the heartbeat for good (Redstream.close()); the set entry expires after its ttl. */
  close(): void {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.clearDueTimer();
    this.wakeCapacityWaiters();
  }

  private beat(): Promise<void> {
    // A slow Redis must not pile up heartbeats.
    this.beating ??= this.sendHeartbeat().finally(() => (this.beating = undefined));
    return this.beating;
  }

  private async sendHeartbeat(): Promise<void> {
    try {
      const count = Number(
        await scripts.heartbeatShardGroup.run(
          this.connections.client(),
          [this.key],
          [this.instanceId, this.timing.ttlMs, this.freshMs],
        ),
      );
      this.failing = false;
      if (this.closed || !this.heartbeat) return;
      const before = this.share;
      this.instances = Math.max(1, count);
      if (this.share !== before) this.wakeCapacityWaiters();
      this.evaluate();
    } catch (error) {
      // The locks decide meanwhile; the count is kept until Redis answers again.
      if (!this.failing) this.logger.warn(shardGroupHeartbeatFailed(this.group, (error as Error).message));
      this.failing = true;
    }
  }

  /**
   * The balancing rule: over share without a break for `balanceDelayMs`, ask as many owned
   * shards as are over it to hand over; back at or under share, withdraw the requests.
   */
  private evaluate(): void {
    const excess = this.owned.size - this.share;
    if (excess <= 0) {
      this.overSince = undefined;
      this.clearDueTimer();
      for (const member of this.handingOver) member.cancelHandOver();
      this.handingOver.clear();
      return;
    }
    const now = performance.now();
    this.overSince ??= now;
    const dueInMs = this.overSince + this.timing.balanceDelayMs - now;
    if (dueInMs > 0) {
      this.dueTimer ??= setTimeout(() => {
        this.dueTimer = undefined;
        this.evaluate();
      }, dueInMs + 1);
      this.dueTimer.unref();
      return;
    }
    const wanted = excess - this.handingOver.size;
    if (wanted <= 0) return;
    const chosen = [...this.owned].filter((member) => !this.handingOver.has(member)).slice(-wanted);
    this.logger.log(shardGroupHandingOver(this.group, this.owned.size, this.share, this.instances, chosen.length));
    for (const member of chosen) {
      this.handingOver.add(member);
      member.requestHandOver();
    }
  }

  private clearDueTimer(): void {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = undefined;
  }

  private wakeCapacityWaiters(): void {
    const waiters = [...this.capacityWaiters];
    this.capacityWaiters.clear();
    for (const wake of waiters) wake();
  }
}

/** The kinds of worker a shard group can balance; each group balances one of them. */
export type ShardGroupWorkerKind = 'consumer' | 'delayer';

/** Options of one worker's place in a shard group. */
export interface ShardGroupJoin {
  group: string;
  timing: ShardGroupTiming;
  kind: ShardGroupWorkerKind;
}

/** The shard groups of one {@link Redstream}: one membership per group name. */
export class ShardGroups {
  private readonly groups = new Map<string, ShardGroupMembership>();

  constructor(
    private readonly connections: RedisConnectionFactory,
    private readonly keys: RedstreamKeys,
    private readonly logger: RedstreamLogger,
  ) {}

  /**
   * The membership of `group`, created with `timing` by its first worker. Throws
   * RedstreamConfigError for a worker of another kind than the group's first: the share counts
   * every worker of the group, so consumers and delayers in one group would take each other's
   * share, and an instance running only one kind would leave shards of the other unowned.
   */
  membership({ group, timing, kind }: ShardGroupJoin): ShardGroupMembership {
    let membership = this.groups.get(group);
    if (!membership) {
      membership = new ShardGroupMembership(group, this.connections, this.keys, this.logger, timing, kind);
      this.groups.set(group, membership);
    } else if (membership.kind !== kind) {
      throw new RedstreamConfigError(shardGroupMixesKinds(group, membership.kind, kind));
    }
    return membership;
  }

  /** The membership of `group` on this instance, if a worker of it was created here. */
  get(group: string): ShardGroupMembership | undefined {
    return this.groups.get(group);
  }

  close(): void {
    for (const membership of this.groups.values()) membership.close();
  }
}
