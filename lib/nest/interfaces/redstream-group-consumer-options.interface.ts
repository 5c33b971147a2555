import type { RedstreamWorkerSettings } from './redstream-consumer-options.interface';

/**
 * The worker settings a group consumer shares with offset consumers (and takes from
 * `consumerDefaults`); it has no lock, so no lock settings.
 */
export type RedstreamGroupWorkerSettings = Pick<
  RedstreamWorkerSettings,
  'batchSize' | 'blockMs' | 'readGraceMs' | 'backoffInitialMs' | 'backoffMaxMs'
>;

/** Options of {@link RedstreamGroupConsumer}. */
export interface RedstreamGroupConsumerOptions extends RedstreamGroupWorkerSettings {
  /** The stream to read, e.g. `products`. */
  stream: string;
  /**
   * The Redis consumer group on the stream key; every instance of the method in every process
   * is a member and they share its entries. Created on first start (`XGROUP CREATE ... MKSTREAM`).
   */
  group: string;
  /** Where a new group starts: `'begin'` (default: entries written before the first deploy count) or `'end'`. */
  startAt?: 'begin' | 'end';
  /** Entries pending longer than this (a dead or stuck member) are claimed by another member, in ms. */
  claimIdleMs?: number;
  /** How often a member looks for entries to claim, in ms. */
  claimIntervalMs?: number;
  /** Deliveries after which an entry goes to `<stream>.dead` and is acked; `0` never. Default 10. */
  maxDeliveries?: number;
  /** Members idle longer than this with nothing pending are removed from the group, in ms. */
  forgetIdleMs?: number;
  /** Batches in flight at once in this instance. Default 1. */
  concurrency?: number;
  /**
   * A handler that has not settled after this many ms counts as failed and its batch is
   * retried (the late call is not cancelled). Default: no timeout.
   */
  handlerTimeoutMs?: number;
  /** `false` registers nothing for this method (e.g. per deployment). Default `true`. */
  enabled?: boolean;
}
