import { RedstreamTimeoutError } from '../engine';

/**
 * `redstreamTesting.drain()` gave up: the consumer did not handle everything the stream held
 * when it was called within `timeoutMs`. The message says what it waited for and where the
 * consumer got to; the same facts are fields, for assertions.
 */
export class RedstreamDrainTimeoutError extends RedstreamTimeoutError {
  constructor(
    message: string,
    /** The stream drained. */
    readonly stream: string,
    /** The consumer name or group drained. */
    readonly consumer: string,
    /**
     * The id it had to reach: the stream's last entry when `drain()` was called, or (while
     * still waiting for the Delayer with `includeDelayed`) the delay stream's last entry.
     */
    readonly upTo: string,
    /** The committed offset (consumer) or last delivered id (group) when it gave up; null when none. */
    readonly reached: string | null,
  ) {
    super(message);
  }
}
