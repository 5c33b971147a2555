import type { ShardGroupMember, ShardGroupMembership } from '../shard-group-membership';
import { shardHandedOver } from '../shard-group.messages';
import type { SingleOwnerLease } from './single-owner-lease';
import type { WorkerLease } from './worker-lease.interface';

/**
 * The lease of one shard of a shard group: the gem's lock (a {@link SingleOwnerLease}, so a
 * Ruby consumer of the shard still excludes this one and every commit stays fenced), taken
 * only while this instance owns fewer shards of the group than its share, and handed over
 * when its {@link ShardGroupMembership} finds it over its share for long enough.
 *
 * At its share, a worker waits without touching the lock's notify list (a wake-up popped and
 * not used would delay the instance that needs it); under it, it waits there as any standby.
 */
export class BalancedShardLease implements WorkerLease, ShardGroupMember {
  /** The last acquire was declined here (at share) rather than refused by Redis. */
  private declined = false;
  private engaged = false;
  private handOverWanted = false;
  private readonly handOverListeners = new Set<() => void>();

  constructor(
    private readonly inner: SingleOwnerLease,
    private readonly membership: ShardGroupMembership,
    /** How long a wait at share lasts before looking again, in ms (`standbyPollMs`). */
    private readonly pollMs: number,
  ) {
    membership.add(this);
  }

  isHeld(): boolean {
    return this.inner.isHeld();
  }

  async acquire(): Promise<boolean> {
    if (!this.engaged) {
      this.engaged = true;
      await this.membership.engage(this);
    }
    if (!this.membership.tryReserve(this)) {
      // At share, or the room left taken by an acquire in flight here: wait in the membership,
      // which wakes this one as soon as that acquire was refused (room again) or the share grew.
      this.declined = true;
      return false;
    }
    this.declined = false;
    let held = false;
    try {
      held = await this.inner.acquire();
      return held;
    } finally {
      this.membership.settleReservation(this, held);
    }
  }

  async confirm(): Promise<boolean> {
    const held = await this.inner.confirm();
    if (!held) this.membership.dropOwned(this);
    return held;
  }

  keepAlive(onError: (error: Error) => void): void {
    this.inner.keepAlive(onError);
  }

  markLost(): void {
    this.inner.markLost();
    this.membership.dropOwned(this);
  }

  waitForTurn(signal: AbortSignal): Promise<void> {
    if (this.declined) return this.membership.waitForCapacity(signal, this.pollMs);
    return this.inner.waitForTurn(signal);
  }

  describeLoss(): string | undefined {
    return this.inner.describeLoss();
  }

  wantsHandOver(): boolean {
    return this.handOverWanted;
  }

  onHandOverRequested(listener: () => void): () => void {
    if (this.handOverWanted) {
      listener();
      return () => undefined;
    }
    this.handOverListeners.add(listener);
    return () => this.handOverListeners.delete(listener);
  }

  async handOver(): Promise<string> {
    await this.inner.release();
    this.membership.dropOwned(this);
    return shardHandedOver(this.membership.group);
  }

  async release(): Promise<void> {
    await this.inner.release();
    if (this.engaged) {
      this.engaged = false;
      await this.membership.disengage(this);
    } else {
      this.membership.dropOwned(this);
    }
  }

  /** @internal the membership's request */
  requestHandOver(): void {
    this.handOverWanted = true;
    const listeners = [...this.handOverListeners];
    this.handOverListeners.clear();
    for (const listener of listeners) listener();
  }

  /** @internal the membership's withdrawal (or the hand-over is done) */
  cancelHandOver(): void {
    this.handOverWanted = false;
  }
}
