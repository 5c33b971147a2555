import type { BackgroundWorkerSetup } from '../background-worker';
import type { BlockingReader } from '../blocking-reader';
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

/**
 * The gem's lease: one instance per lock key works, the others are hot standbys. Wraps a
 * {@link StreamLock} (owner id, local lease, fenced by the owner id in every commit) and
 * waits on the lock's notify list with BRPOP on the worker's blocking connection, so a
 * graceful hand-over is immediate and a crashed owner is replaced within ttl plus one poll.
 */
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
    lease: (reader) => new SingleOwnerLease(lock, reader, timing.standbyPollMs),
  };
}

export class SingleOwnerLease implements WorkerLease {
  constructor(
    /** The lock; its key and owner id fence the worker's writes. */
    readonly lock: StreamLock,
    private readonly reader: BlockingReader,
    /** How long one standby wait on the notify list lasts, in ms. */
    private readonly standbyPollMs: number,
  ) {}

  isHeld(): boolean {
    return this.lock.isHeld();
  }

  acquire(): Promise<boolean> {
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
    await this.reader.watch(this.standbyPollMs, (client) => this.lock.waitForRelease(client, this.standbyPollMs));
  }

  describeLoss(): string | undefined {
    return this.lock.describeLoss();
  }

  release(): Promise<void> {
    return this.lock.release();
  }
}
