import type { StreamRef } from '../stream-definition';
import type { RedstreamMessage } from './redstream-message.interface';
import type { RedstreamLogger } from './redstream-logger.interface';

/**
 * Receives one batch of a group consumer; the batch's entries are acknowledged (XACK) after
 * the returned promise resolves. A throw or rejection acknowledges nothing of the batch: it
 * is bisected to find the entries that fail on their own, the others are acknowledged.
 */
export type GroupConsumerHandler<TPayload extends object> = (messages: RedstreamMessage<TPayload>[]) => unknown;

/** Options of a {@link GroupConsumer}: one member of a Redis consumer group. */
export interface GroupConsumerOptions<TPayload extends object> {
  /**
   * The stream to read: a name (`products`) or a definition (`defineStream`), which types the
   * payloads and, with its `parse`, checks each entry (see the README's Typed streams).
   */
  stream: StreamRef<TPayload>;
  /**
   * The consumer group, e.g. `indexers`: every instance with the same stream and group shares
   * the work (Redis hands each entry to one member). Same character rules as a consumer name.
   */
  group: string;
  /** Called with each batch. */
  handler: GroupConsumerHandler<TPayload>;
  /**
   * Where the group starts when it does not exist yet: `'begin'` delivers every entry already
   * in the stream (nothing written before the first deploy is lost), `'end'` only entries
   * written afterwards. No effect on an existing group. Default `'begin'`.
   */
  startAt?: 'begin' | 'end';
  /**
   * Entries pending (delivered, not acknowledged) with any member for at least this many ms
   * are taken over by a member that checks (XAUTOCLAIM): a crashed or stuck member's entries
   * are handled again after about `claimIdleMs` plus `claimIntervalMs`. Must exceed
   * `backoffMaxMs` and `handlerTimeoutMs` (a member's own entries waiting for a retry, or in
   * a slow handler, are idle too); a handler slower than this may see its entries handled
   * by another member as well. Default 60000.
   */
  claimIdleMs?: number;
  /** How often each member looks for idle entries to claim, in ms. Default 10000, at most `claimIdleMs`. */
  claimIntervalMs?: number;
  /**
   * An entry that failed on its own (see the handler) and has been delivered this many
   * times is moved to the dead-letter stream `<stream>.dead` and acknowledged. Each read,
   * retry and claim counts a delivery (Redis's count), so an outage of what the handler
   * needs that outlasts this many retries dead-letters entries too: raise it, or `0` to
   * never dead-letter (a failing entry is then retried for ever, without holding up the
   * others). Default 10.
   */
  maxDeliveries?: number;
  /**
   * Other members idle for at least this many ms and holding no pending entries are removed
   * from the group (XGROUP DELCONSUMER), so the group's member list does not grow with
   * every deploy. `0` never removes any. Must exceed `blockMs`. Default 86400000 (24 h).
   */
  forgetIdleMs?: number;
  /**
   * Batches this instance handles at once. Above 1, the handler runs on several batches in
   * parallel, so the entries of one stream are no longer handled in order even within one
   * instance. Default 1.
   */
  concurrency?: number;
  /** Most entries read (and handed over) at once. Default 1000. */
  batchSize?: number;
  /**
   * About the most field data (in characters) read and handed over at once, as for offset
   * consumers: each read's COUNT follows the entry sizes seen before it, the first asks for
   * 10, and an entry larger than this still goes through alone. Default 8 MiB.
   */
  maxBatchBytes?: number;
  /** XREADGROUP BLOCK time in ms. Default 5000. `stop()` does not wait for it. */
  blockMs?: number;
  /** First retry delay after a failure (a handler throw, Redis down), in ms. Default 200. */
  backoffInitialMs?: number;
  /** Largest retry delay, in ms. Default 30000. */
  backoffMaxMs?: number;
  /**
   * Extra time, in ms, a blocking read may take beyond `blockMs` before its connection is
   * considered dead and replaced (the watchdog). Default 5000.
   */
  readGraceMs?: number;
  /**
   * A handler that has not settled after this many ms counts as failed (the late handler is
   * not cancelled: JavaScript cannot). Default: no timeout.
   */
  handlerTimeoutMs?: number;
  /**
   * A member whose handler has kept failing (or whose loop could not reach Redis) for this
   * many ms counts as stalled: `isStalled`, `stalledSince`, a `stalled` event once and
   * `recovered` on the next success. Default 60000.
   */
  stalledAfterMs?: number;
  /** Overrides the logger of the Redstream instance for this worker; `false` logs nothing. */
  logger?: RedstreamLogger | false;
}
