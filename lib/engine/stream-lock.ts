import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RedisClient } from './redis-connection';
import { scripts } from './scripts';
import { withTimeout } from './with-timeout';

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
  private lastTickAt = 0;
  /** The last time the keep-alive ran so late that the lease had run out meanwhile. */
  private stall?: { gapMs: number; at: number };

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
    this.lastTickAt = performance.now();
    this.keepAlive = setInterval(() => {
      this.noteTick();
      this.refresh()
        .then(
          (held) => {
            if (!held) onLost();
          },
          (error: Error) => onError(error),
        )
        // The callbacks do not throw (the worker's logger is guarded); should one, a timer's
        // rejection must still not leave the process as an unhandled rejection.
        .catch(() => undefined);
    }, this.timing.refreshMs);
    this.keepAlive.unref();
  }

  /**
   * Why the lease ran out, when the keep-alive can tell: the event loop was blocked (long
   * synchronous work, a GC pause) past the lock's ttl, so no refresh could be sent. Undefined
   * when the keep-alive ran on time (then another instance or Redis took the lock).
   */
  describeLoss(): string | undefined {
    const stall = this.stall;
    if (!stall || performance.now() - stall.at > 2 * this.timing.ttlMs + this.timing.refreshMs) return undefined;
    const blockedMs = Math.round(stall.gapMs - this.timing.refreshMs);
    return (
      `the event loop was blocked for about ${blockedMs} ms (the lock's keep-alive ran ${Math.round(stall.gapMs)} ms ` +
      `after the one before), longer than the lock lives unrefreshed (lockTtlMs ${this.timing.ttlMs}): ` +
      `raise lockTtlMs above ${blockedMs + this.timing.refreshMs} ms, or make the work between awaits shorter ` +
      `(smaller maxBatchBytes or batchSize, no long synchronous handler code)`
    );
  }

  private noteTick(): void {
    const now = performance.now();
    const gapMs = now - this.lastTickAt;
    this.lastTickAt = now;
    // On time, a tick comes every refreshMs while the lease lasts ttlMs from the last refresh.
    if (now >= this.leaseUntil && gapMs > this.timing.refreshMs * 1.5) this.stall = { gapMs, at: now };
  }

  stopKeepAlive(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  /**
   * Releases the lock if we own it and wakes a waiting standby. Never throws. Waits at most
   * for the rest of the local lease (at least 100 ms): with Redis unreachable the lock expires
   * by itself meanwhile, and a stop must not wait for a reply that will not come.
   */
  async release(): Promise<void> {
    this.stopKeepAlive();
    const leaseUntil = this.leaseUntil;
    this.leaseUntil = 0;
    if (leaseUntil === 0) return;
    const released = scripts.releaseLock
      .run(this.client, [this.key, this.notifyKey], [this.ownerId, this.timing.ttlMs])
      // Unreleased, the lock expires after its ttl: a slower hand-over, never a wrong one.
      .catch(() => undefined);
    await withTimeout(released, Math.max(100, leaseUntil - performance.now()), () => undefined);
  }

  private async extendWith(run: () => Promise<unknown>): Promise<boolean> {
    const sentAt = performance.now();
    const held = (await run()) === 1;
    if (held) this.leaseUntil = sentAt + this.timing.ttlMs;
    else this.leaseUntil = 0;
    return held;
  }
}
