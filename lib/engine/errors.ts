/** Base class of every error this library throws, so callers can catch ours apart from others. */
export class RedstreamError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option, a stream name or a consumer name is invalid. Thrown before anything touches Redis. */
export class RedstreamConfigError extends RedstreamError {}

/** A Producer call did not complete within `commandTimeout`; the write may or may not have happened. */
export class RedstreamTimeoutError extends RedstreamError {}

/** Redis refused or failed a command (connection lost, wrong password, script error...). */
export class RedstreamConnectionError extends RedstreamError {}

/** `WAIT` returned before enough replicas acknowledged the delay messages. */
export class RedstreamReplicationError extends RedstreamError {
  constructor(
    readonly expectedReplicas: number,
    readonly acknowledgedReplicas: number,
    timeoutMs: number,
  ) {
    super(
      `Only ${acknowledgedReplicas} of ${expectedReplicas} replicas acknowledged the delay messages within ${timeoutMs} ms (Redis WAIT)`,
    );
  }
}

/** The worker's lock was lost (expired or taken by another instance) while it was working. */
export class RedstreamLockLostError extends RedstreamError {}

/** A handler did not settle within `handlerTimeout`. */
export class RedstreamHandlerTimeoutError extends RedstreamError {}

/** A blocking read did not return within BLOCK plus the grace period; its connection is recreated. */
export class RedstreamReadStalledError extends RedstreamError {}
