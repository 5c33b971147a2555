import type { Duration } from '../duration';
import type { StreamRef } from '../stream-definition';
import type { RedstreamMessage, RedstreamPayload } from './redstream-message.interface';
import type { ReadingWorkerOptions, ShardGroupOption } from './worker-options.interface';

/** Options of a {@link Delayer}. */
export interface DelayerOptions extends ReadingWorkerOptions, ShardGroupOption {
  /**
   * The stream whose delay stream (`<stream>.delay`) this Delayer serves, by name or
   * definition. A definition's `parse` is not run here: delay messages are re-queued as they
   * are, and the stream's consumers check them.
   */
  stream: StreamRef<object>;
  /**
   * How old a delay message must be before it is re-queued: ms or `'5m'`. Must exceed your
   * longest database transaction, or a message may be re-queued before its commit.
   */
  delay: Duration;
  /**
   * Called with each batch of due messages just before they are re-queued (metrics, logs).
   * Its result is ignored; if it throws, the error is logged and the messages are re-queued
   * all the same: healing must not depend on an observer.
   */
  onDue?: (messages: RedstreamMessage<RedstreamPayload>[]) => unknown;
}
