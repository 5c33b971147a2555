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

/**
 * A committed offset in Redis cannot be worked from: it is not a stream id, or it lies beyond
 * the stream's last generated id (tampered with, or restored from another stream). The worker
 * stays stalled (retrying with backoff, logged) rather than skip or re-read anything; fix the
 * key named here (SET it to the last id handled, or DEL it to read from the beginning).
 */
export class RedstreamOffsetError extends RedstreamError {
  constructor(
    message: string,
    /** The offset key, e.g. `redstream:offset:products:indexer`. */
    readonly key: string,
    /** What the key holds. */
    readonly value: string,
  ) {
    super(message);
  }
}

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

/** The Redstream instance was closed: its workers cannot start again, nor new ones be created. */
export class RedstreamClosedError extends RedstreamError {}

/** The worker's lock was lost (expired or taken by another instance) while it was working. */
export class RedstreamLockLostError extends RedstreamError {}

/** A consumer group is still missing after it was recreated: something keeps deleting it. */
export class RedstreamGroupMissingError extends RedstreamError {}

/** A handler did not settle within `handlerTimeout`. */
export class RedstreamHandlerTimeoutError extends RedstreamError {}

/** A blocking read did not return within BLOCK plus the grace period; its connection is recreated. */
export class RedstreamReadStalledError extends RedstreamError {}

/** Why Redis refused a script, as far as the reply tells. */
export type RedstreamScriptFailure = 'acl-command' | 'acl-key' | 'out-of-memory' | 'read-only' | 'other';

/**
 * One of the library's Lua scripts failed inside Redis (out of memory, a read-only replica, an
 * ACL denial, a script error). The message names the operation (`offset commit`, `lock acquire`,
 * `delayer move`, `trim`...), the script file, the line and the Redis command it failed on.
 */
export class RedstreamScriptError extends RedstreamConnectionError {
  constructor(
    message: string,
    /** What the library was doing, e.g. `offset commit`. */
    readonly operation: string,
    /** The script's file name without `.lua`, e.g. `commit-offset`. */
    readonly script: string,
    readonly failure: RedstreamScriptFailure,
    /** Where in the script it failed, when Redis says (Redis 7: `@user_script:<line>`). */
    readonly line: number | undefined,
    /** The Redis command on that line (upper case), e.g. `XRANGE`. */
    readonly command: string | undefined,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The Redis ACL user may not run a command (or touch a key) that an operation needs. `aclRule`
 * is what to add to the user's ACL line, e.g. `+xrange` or `~app:redstream:*`; see
 * test/reliability/ACL.md for the complete line.
 */
export class RedstreamPermissionError extends RedstreamScriptError {
  constructor(
    message: string,
    operation: string,
    script: string,
    failure: 'acl-command' | 'acl-key',
    line: number | undefined,
    /** The denied command (upper case), or the command whose keys were denied. */
    readonly deniedCommand: string | undefined,
    readonly aclRule: string | undefined,
    options: { cause: unknown },
  ) {
    super(message, operation, script, failure, line, deniedCommand, options);
  }
}

/**
 * A payload failed the `parse` of its stream definition (`defineStream`) in the Producer:
 * nothing of the call was written. `cause` is what `parse` threw.
 */
export class RedstreamValidationError extends RedstreamConfigError {
  constructor(
    message: string,
    /** The stream's name. */
    readonly stream: string,
    /** The position of the failing payload in the call (0 for a single payload). */
    readonly index: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
