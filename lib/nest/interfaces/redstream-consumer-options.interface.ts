import type { ConsumerOptions, ReadingWorkerOptions, ShardGroupOption, StreamRef } from '../../engine';

/** Worker settings a handler can tune; the module's `consumerDefaults` fill in the rest. */
export type RedstreamWorkerSettings = Omit<ReadingWorkerOptions, 'logger'>;

/**
 * Options of {@link RedstreamConsumer}. `TPayload` is the payload type of a stream given as a
 * definition (`defineStream`); `never` for a stream given by name.
 */
export interface RedstreamConsumerOptions<TPayload extends object = never>
  extends RedstreamWorkerSettings, ShardGroupOption {
  /**
   * The stream to read: its name, e.g. `products` (the gem's `stream_name`), or its definition
   * (`defineStream`), which types the method's messages and, with `parse`, checks each entry.
   */
  stream: StreamRef<TPayload>;
  /**
   * The consumer's name, unique per stream (`indexer`, `cacher`): it names the committed offset
   * and the lock, so renaming it starts the consumer over from the beginning of the stream.
   */
  name: string;
  /**
   * A handler that has not settled after this many ms counts as failed and its batch is
   * retried (the late call is not cancelled). Default: no timeout.
   */
  handlerTimeoutMs?: number;
  /**
   * Opt-in poison isolation: after a batch failed `afterAttempts` times in a row, the entries
   * that fail on their own go to `<stream>.dead` and the offset moves past them, in order.
   * Default: off (the gem's retry for ever). Also settable in `consumerDefaults` and `handlers`.
   */
  deadLetter?: ConsumerOptions<never>['deadLetter'];
  /** `false` registers nothing for this method (e.g. per deployment). Default `true`. */
  enabled?: boolean;
}
