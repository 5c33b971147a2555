import type { WorkerLease } from './worker-lease.interface';

/**
 * The lease of a worker that is active on every instance at once and needs no owner: a
 * consumer-group member (XREADGROUP/XACK), where Redis hands each entry to one member.
 * Always held, nothing to keep alive, nothing to release.
 */
export class AlwaysHeldLease implements WorkerLease {
  isHeld(): boolean {
    return true;
  }

  acquire(): Promise<boolean> {
    return Promise.resolve(true);
  }

  confirm(): Promise<boolean> {
    return Promise.resolve(true);
  }

  keepAlive(): void {
    // Nothing expires.
  }

  markLost(): void {
    // Cannot be lost.
  }

  waitForTurn(): Promise<void> {
    return Promise.resolve();
  }

  release(): Promise<void> {
    return Promise.resolve();
  }
}
