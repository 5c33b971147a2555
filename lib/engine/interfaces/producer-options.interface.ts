/** Options of a {@link Producer}. */
export interface ProducerOptions {
  /**
   * After writing delay messages, wait until this many replicas acknowledged them (Redis
   * `WAIT`), with a timeout, as the gem's `wait:` does for replicated setups. The call
   * rejects with RedstreamReplicationError when fewer acknowledged in time. Default: off.
   * WAIT holds the shared connection until it returns, so keep `timeoutMs` well below the
   * workers' lock ttl and the connection's socket timeout (DEFAULT_SOCKET_TIMEOUT_MS).
   */
  wait?: { replicas: number; timeoutMs: number };
  /**
   * Whether `bulk()` and `queueAfterDelay()` (which the TypeORM integration uses) delete the
   * delay messages of a change along with writing its immediate messages. `queue()` with
   * `delayMessageIds` deletes them whatever this says.
   * `false` (default, the gem since v0.5): the Delayer re-delivers every change once more
   * after the delay, which also heals a consumer that read a lagging database replica.
   * `true` (the gem's older docs): less traffic, no second delivery.
   */
  deleteDelayMessagesOnQueue?: boolean;
  /**
   * Bound on every Producer call in ms: a call that has not completed then (Redis down or
   * unreachable) rejects with RedstreamTimeoutError. The write may still happen later;
   * at least once, never silently dropped. Default 5000.
   */
  commandTimeoutMs?: number;
  /** Messages per pipeline for large arrays. Default 250 (the gem's slice). */
  sliceSize?: number;
}

/** Options of one `queue()` call. */
export interface QueueOptions {
  /**
   * Delay message ids (from `delay()`) to delete from the delay stream in the same round trip,
   * whatever `deleteDelayMessagesOnQueue` says; `queueAfterDelay()` leaves that to the option.
   */
  delayMessageIds?: readonly string[];
}
