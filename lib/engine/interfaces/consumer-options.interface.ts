import type { StreamRef } from '../stream-definition';
import type { RedstreamMessage } from './redstream-message.interface';
import type { ReadingWorkerOptions, ShardGroupOption } from './worker-options.interface';

/** Receives one batch; the offset is committed after the returned promise resolves. */
export type ConsumerHandler<TPayload extends object> = (messages: RedstreamMessage<TPayload>[]) => unknown;

/** Options of a {@link Consumer}. */
export interface ConsumerOptions<TPayload extends object> extends ReadingWorkerOptions, ShardGroupOption {
  /**
   * The stream to read: a name (`products`) or a definition (`defineStream`), which types the
   * payloads and, with its `parse`, checks each entry (see the README's Typed streams).
   */
  stream: StreamRef<TPayload>;
  /** The consumer's name, unique per stream (`indexer`, `cacher`); it names the offset and the lock. */
  name: string;
  /** Called with each batch. A throw or rejection retries the same batch after a backoff. */
  handler: ConsumerHandler<TPayload>;
  /**
   * A handler that has not settled after this many ms counts as failed and the batch is
   * retried (the late handler is not cancelled: JavaScript cannot). Default: no timeout.
   */
  handlerTimeoutMs?: number;
  /**
   * Opt-in poison isolation (and dead letters for entries that fail the stream's `parse`). When a batch has failed `afterAttempts` times in a row, it is
   * split in halves (bisection) to find the entries that fail on their own; those are written
   * to the dead-letter stream `<stream>.dead` (fenced by the lock), the others are handled in
   * stream order, and the offset moves past the batch. More than 10 lone failures in one
   * batch count as an outage, not poison: nothing is dead-lettered and the batch is retried.
   * Default: off, the gem's behaviour: a failing batch is retried for ever and holds up the
   * stream, but no entry is ever set aside.
   */
  deadLetter?: { afterAttempts: number };
}
