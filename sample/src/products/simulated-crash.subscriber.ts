import { AsyncLocalStorage } from 'node:async_hooks';
import { EntitySubscriberInterface, EventSubscriber, TransactionCommitEvent } from 'typeorm';

/** Stands for the process dying right after a COMMIT, before the immediate message. */
export class SimulatedCrash extends Error {
  constructor() {
    super('Simulated crash after COMMIT');
    this.name = 'SimulatedCrash';
  }
}

const crashAfterCommit = new AsyncLocalStorage<boolean>();

/** Runs `write`; when `crash` is true, its transaction throws a {@link SimulatedCrash} once committed. */
export function simulatingCrash<T>(crash: boolean, write: () => Promise<T>): Promise<T> {
  return crashAfterCommit.run(crash, write);
}

/**
 * The healing demo's crash: throws {@link SimulatedCrash} after the outermost COMMIT of a write
 * run by {@link simulatingCrash}. It is listed in TypeORM's `subscribers` option, so it comes
 * before the RedstreamSubscriber that `RedstreamTypeOrmModule` appends later; TypeORM calls the
 * commit hooks in order, and this synchronous throw keeps the RedstreamSubscriber from writing
 * the immediate message. The committed change then reaches the consumers only through its
 * delay message, once the Delayer re-queues it.
 */
@EventSubscriber()
export class SimulatedCrashSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit(event: TransactionCommitEvent): void {
    // A released savepoint leaves the transaction open: only the real COMMIT "crashes".
    if (crashAfterCommit.getStore() === true && !event.queryRunner.isTransactionActive) throw new SimulatedCrash();
  }
}
