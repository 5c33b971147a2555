import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RedisClient } from './redis-connection';
import { scripts } from './scripts';

/** Timing of a {@link StreamLock}. */
export interface StreamLockTiming {
  /** How long the lock lives without a refresh, in ms (the gem: 5000). */
  ttlMs: number;
  /** How often the owner refreshes it, in ms (the gem: 3000). Must be below `ttlMs`. */
  refreshMs: number;
}

/**
 * The gem-compatible lock that makes one instance per (stream, name) active and the others
 * hot standbys. The key holds the owner's random id; it is taken only when free and
 * refreshed and released only by its owner. A release pushes to `<key>.notify`, on which
 * standbys wait with BRPOP, so a graceful hand-over is immediate; after a crash the key
 * expires and a standby takes over within the ttl plus one poll.
 *
 * Besides what Redis says, the owner keeps a local lease: the lock is surely held until
 * `ttl` after the moment the last successful acquire/refresh was *sent* (monotonic clock).
 * When the lease runs out (a long GC pause, SIGSTOP, a partition) the owner must ask Redis
 * again before doing any work, and every offset commit is fenced by the owner id anyway.
 */
export class StreamLock {
  /** This instance's owner id, stored in the lock key while it holds the lock. */
  readonly ownerId = randomBytes(16).toString('hex');
  private leaseUntil = 0;
  private keepAlive?: NodeJS.Timeout;

  constructor(
    private readonly client: RedisClient,
    readonly key: string,
    readonly notifyKey: string,
    readonly timing: StreamLockTiming,
  ) {}

  /** True while the local lease says the lock is held; false means: ask Redis (`refresh`). */
  isHeld(): boolean {
    return performance.now() < this.leaseUntil;
  }

  /** Takes the lock if it is free (or already ours). */
  async tryAcquire(): Promise<boolean> {
    return this.extendWith(() => scripts.acquireLock.run(this.client, [this.key], [this.ownerId, this.timing.ttlMs]));
  }

  /** Extends the lock if we still own it; false when it was lost. */
  async refresh(): Promise<boolean> {
    return this.extendWith(() => scripts.refreshLock.run(this.client, [this.key], [this.ownerId, this.timing.ttlMs]));
  }

  /** Records a successful fenced write (which also extended the lock) sent at `sentAt`. */
  confirmedAt(sentAt: number): void {
    this.leaseUntil = sentAt + this.timing.ttlMs;
  }

  /** Forgets the lease, e.g. after a fenced write was refused. */
  markLost(): void {
    this.leaseUntil = 0;
  }

  /**
   * Refreshes the lock every `refreshMs` until `stopKeepAlive()`. `onLost` is called when a
   * refresh finds the lock gone; a refresh that fails on the network is retried next tick
   * (the local lease decides meanwhile).
   */
  startKeepAlive(onLost: () => void, onError: (error: Error) => void): void {
    this.stopKeepAlive();
    this.keepAlive = setInterval(() => {
      this.refresh().then(
        (held) => {
          if (!held) onLost();
        },
        (error: Error) => onError(error),
      );
    }, this.timing.refreshMs);
    this.keepAlive.unref();
  }

  stopKeepAlive(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  /** Releases the lock if we own it and wakes a waiting standby. Never throws. */
  async release(): Promise<void> {
    this.stopKeepAlive();
    const held = this.leaseUntil > 0;
    this.leaseUntil = 0;
    if (!held) return;
    try {
      await scripts.releaseLock.run(this.client, [this.key, this.notifyKey], [this.ownerId, this.timing.ttlMs]);
    } catch {
      // Unreleased, the lock expires after its ttl: a slower hand-over, never a wrong one.
    }
  }

  /**
   * Waits, on a blocking connection, until the owner releases the lock or `timeoutMs` passes.
   * Resolves either way; the caller then tries to acquire.
   */
  async waitForRelease(blockingClient: RedisClient, timeoutMs: number): Promise<void> {
    await blockingClient.brpop(this.notifyKey, Math.max(timeoutMs, 10) / 1000);
  }

  private async extendWith(run: () => Promise<unknown>): Promise<boolean> {
    const sentAt = performance.now();
    const held = (await run()) === 1;
    if (held) this.leaseUntil = sentAt + this.timing.ttlMs;
    else this.leaseUntil = 0;
    return held;
  }
}
