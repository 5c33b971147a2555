import { RedstreamError } from '../engine';

/**
 * A delay message could not be written inside the transaction (Redis down, unreachable or
 * rejecting writes), so the database write fails too: no change may commit without a
 * message that eventually reaches the consumers. `cause` holds the Redis error.
 */
export class RedstreamDelayWriteError extends RedstreamError {
  constructor(
    readonly entity: string,
    readonly stream: string,
    cause: unknown,
  ) {
    super(
      `Could not write the redstream delay message of ${entity} to stream "${stream}", so the database write ` +
        `is rolled back (no change may bypass the stream): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/**
 * A write of a redstream entity that TypeORM reported without its primary key: a
 * QueryBuilder or `repository.update()` / `delete()` with criteria, which bypass per-record
 * events. Thrown only with `onBypass: 'fail'`, after the statement ran: it rolls the write back
 * only inside a transaction. Wrap such writes in `redstreamBulk()`.
 */
export class RedstreamBypassError extends RedstreamError {}
