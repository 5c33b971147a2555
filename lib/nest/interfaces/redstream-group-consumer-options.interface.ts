import type { GroupConsumerOptions, RedstreamPayload } from '../../engine';

/**
 * Options of {@link RedstreamGroupConsumer}: those of the engine's `groupConsumer()` without
 * `handler` (the decorated method) and `logger` (the module's). The worker settings it shares
 * with offset consumers (`batchSize`, `blockMs`, `readGraceMs`, `backoffInitialMs`,
 * `backoffMaxMs`, `handlerTimeoutMs`) default to the module's `consumerDefaults`; it has no lock.
 */
export interface RedstreamGroupConsumerOptions extends Omit<
  GroupConsumerOptions<RedstreamPayload>,
  'handler' | 'logger'
> {
  /** `false` registers nothing for this method (e.g. per deployment). Default `true`. */
  enabled?: boolean;
}
