import type { Duration, ShardGroupOption, StreamRef } from '../../engine';
import type { RedstreamWorkerSettings } from './redstream-consumer-options.interface';

/** Options of {@link RedstreamDelayer}. */
export interface RedstreamDelayerOptions extends RedstreamWorkerSettings, ShardGroupOption {
  /**
   * The stream whose delay stream (`<stream>.delay`) this delayer serves, by name or
   * definition (delay messages are re-queued unchecked: the consumers check them).
   */
  stream: StreamRef<object>;
  /**
   * How old a delay message must be before it is re-queued: ms or a duration such as `'5m'`.
   * Must exceed your longest database transaction.
   */
  delay: Duration;
  /** `false` registers nothing for this method (e.g. per deployment). Default `true`. */
  enabled?: boolean;
}
