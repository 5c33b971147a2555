import type { GroupConsumerOptions } from '../../engine';

/**
 * Options of {@link RedstreamGroupConsumer}: those of the engine's `groupConsumer()` without
 * `handler` (the decorated method) and `logger` (the module's). The worker settings it shares
 * with offset consumers (`batchSize`, `blockMs`, `readGraceMs`, `backoffInitialMs`,
 * `backoffMaxMs`, `handlerTimeoutMs`) default to the module's `consumerDefaults`; it has no lock.
 * `TPayload` is the payload type of a stream given as a definition (`defineStream`); `never`
 * for a stream given by name.
 */
export interface RedstreamGroupConsumerOptions<TPayload extends object = never> extends Omit<
  GroupConsumerOptions<TPayload>,
  'handler' | 'logger'
> {
  /** `false` registers nothing for this method (e.g. per deployment). Default `true`. */
  enabled?: boolean;
}
