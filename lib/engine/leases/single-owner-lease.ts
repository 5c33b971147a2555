import type { BackgroundWorkerSetup } from '../background-worker';
import { performance } from 'node:perf_hooks';
import type { BlockingReader } from '../blocking-reader';
import type { LockExpiryWatch } from '../lock-expiry-watch';
import type { RedstreamLogFields, RedstreamLogger } from '../interfaces/redstream-logger.interface';
import type { ResolvedWorkerOptions } from '../worker-defaults';
import type { RedstreamContext } from '../redstream-context';
import { StreamLock } from '../stream-lock';
import type { WorkerLease } from './worker-lease.interface';

/** The gem-compatible lock `lock:<lockName>` (with its notify list) on the context's shared connection. */
export function createStreamLock(
  context: RedstreamContext,
  lockName: string,
  timing: { lockTtlMs: number; lockRefreshMs: number },
): StreamLock {
  const lockKey = context.keys.lock(lockName);
  return new StreamLock(context.connections.client(), lockKey, context.keys.notify(lockKey), {
    ttlMs: timing.lockTtlMs,
    refreshMs: timing.lockRefreshMs,
  });
}

/** The loop setup of a worker that works only while it holds `lock` (the others stand by). */
export function singleOwnerSetup(
  context: RedstreamContext,
  label: string,
  logger: RedstreamLogger,
  lock: StreamLock,
  timing: ResolvedWorkerOptions,
  logFields?: RedstreamLogFields,
): BackgroundWorkerSetup {
  return {
    label,
    logger,
    logFields,
    connections: context.connections,
    timing,
    sharedReads: context.sharedReads,
    lease: (reader) => new SingleOwnerLease(lock, reader, timing.standbyPollMs, context.lockExpiry),
  };
}

/**
 * The gem's lease: one instance per lock key works, the others are hot standbys. Wraps a
 * {@link StreamLock} (owner id, local lease, fenced by the owner id in every commit) and
 * waits on the lock's notify list with BRPOP on the worker's blocking connection, so a
 * graceful hand-over is immediate; a crashed owner is replaced as soon as its lock expires
 * where Redis publishes expired-key events (the context's {@link LockExpiryWatch} pushes a
 * wake-up onto the notify list), else within ttl plus one poll.
 */
export class SingleOwnerLease implements WorkerLease {
  /** When the last acquire was sent (`performance.now()`). */
  private acquireSentAt = 0;

  constructor(
    /** The lock; its key and owner id fence the worker's writes. */
    readonly lock: StreamLock,
    private readonly reader: BlockingReader,
    /** How long one standby wait on the notify list lasts, in ms. */
    private readonly standbyPollMs: number,
    /** Wakes the wait when the lock expires (its owner crashed) instead of at the next poll. */
    private readonly expiry?: LockExpiryWatch,
  ) {}

  isHeld(): boolean {
    return this.lock.isHeld();
  }

  acquire(): Promise<boolean> {
    this.acquireSentAt = performance.now();
    return this.lock.tryAcquire();
  }

  confirm(): Promise<boolean> {
    return this.lock.refresh();
  }

  keepAlive(onError: (error: Error) => void): void {
    this.lock.startKeepAlive(() => this.lock.markLost(), onError);
  }

  markLost(): void {
    this.lock.stopKeepAlive();
    this.lock.markLost();
  }

  async waitForTurn(signal: AbortSignal): Promise<void> {
    // stop() may have come while the lock was asked for: there was no wait to interrupt yet.
    if (signal.aborted) return;
    const wait = (): Promise<void> => this.reader.waitForList(this.lock.notifyKey, this.standbyPollMs);
    if (!this.expiry) return wait();
    const { key, notifyKey } = this.lock;
    const done = this.expiry.waiting(key, notifyKey, this.lock.timing.ttlMs);
    try {
      // The lock expired after the acquire was refused and before this wait was registered:
      // no wake-up was pushed for it, so try again now rather than at the next poll.
      if (this.expiry.expiredSince(key, this.acquireSentAt)) return;
      await wait();
    } finally {
      done();
    }
  }

  describeLoss(): string | undefined {
    return this.lock.describeLoss();
  }

  release(): Promise<void> {
    return this.lock.release();
  }
}
