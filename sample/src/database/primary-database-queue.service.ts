import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/**
 * Runs every access to the primary database one after the other.
 *
 * sql.js has a single connection, so TypeORM runs concurrent saves inside one shared
 * transaction, and since the RedstreamSubscriber awaits Redis (the delay message) inside each
 * save, concurrent inserts can even get wrong generated ids back. Reads wait their turn too,
 * so that no reader (the indexer above all) sees another request's uncommitted rows. A
 * database with a connection pool (PostgreSQL, MySQL) needs none of this.
 */
@Injectable()
export class PrimaryDatabaseQueue implements BeforeApplicationShutdown {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` once everything queued before it has finished; never nest calls (they would wait for each other). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  // Before TypeORM and Redis close (onApplicationShutdown): the writes already accepted finish.
  async beforeApplicationShutdown(): Promise<void> {
    await this.tail;
  }
}
