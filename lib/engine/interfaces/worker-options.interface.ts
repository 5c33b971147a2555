import type { RedstreamLogger } from './redstream-logger.interface';

/** Options every long-running worker (Consumer, Delayer, Trimmer) shares. */
export interface WorkerOptions {
  /**
   * Lifetime of the high-availability lock in ms: after a crash, a standby takes over within
   * this time plus `standbyPollMs`. Default 5000 (the gem's).
   */
  lockTtlMs?: number;
  /** How often the active instance refreshes its lock, in ms. Must be below `lockTtlMs`. Default 3000. */
  lockRefreshMs?: number;
  /** How long a standby waits on the lock's wake-up list before trying again, in ms. Default 1000. */
  standbyPollMs?: number;
  /** First retry delay after an error (Redis down, handler failed), in ms. Default 200. */
  backoffInitialMs?: number;
  /** Largest retry delay, in ms. Default 30000. */
  backoffMaxMs?: number;
  /**
   * A worker whose same batch (or whose loop: Redis unreachable) has failed in a row for this
   * many ms counts as stalled: `isStalled`, `stalledSince`, a `stalled` event once and
   * `recovered` on the next success. Default 60000.
   */
  stalledAfterMs?: number;
  /** Overrides the logger of the Redstream instance for this worker; `false` logs nothing. */
  logger?: RedstreamLogger | false;
}

/** Options of workers that read a stream with a blocking XREAD (Consumer and Delayer). */
export interface ReadingWorkerOptions extends WorkerOptions {
  /** Most entries read (and handed over) at once. Default 1000 (the gem's). */
  batchSize?: number;
  /**
   * About the most field data (in characters of the ids, field names and values) read and
   * handed over at once. Default 8 MiB. The COUNT of each read follows the entry sizes seen
   * in the read before it (what fits at their average size, at most `batchSize`); the first
   * read after becoming active, when nothing is known, asks for 10 entries. An entry larger
   * than this still goes through, alone. Keeps memory and the synchronous parsing of a batch
   * bounded (a blocked event loop cannot refresh the lock).
   */
  maxBatchBytes?: number;
  /** XREAD BLOCK time in ms. Default 5000. `stop()` does not wait for it. */
  blockMs?: number;
  /**
   * Extra time, in ms, a blocking read may take beyond `blockMs` before its connection is
   * considered dead and replaced (the watchdog). Default 5000.
   */
  readGraceMs?: number;
  /**
   * For a worker in a shard group (`shardGroup`): how long, in ms, this instance must have
   * owned more than its share of the group's shards, without a break, before it hands the
   * extra shards over. Hysteresis: an instance that joins and leaves again within this time
   * moves no shard. Default 5000. The group takes it from its first worker.
   */
  shardBalanceDelayMs?: number;
}

/** The option of a Consumer or Delayer that balances it with the other shards of a group. */
export interface ShardGroupOption {
  /**
   * The shard group this worker's lock belongs to: the instances running a group's workers
   * spread their locks evenly, each owning at most `ceil(shards / live instances)` (shards are
   * the group's workers on this instance, so every instance should run all of them). A group
   * holds consumers or delayers, never both: creating a worker of the other kind in it throws
   * RedstreamConfigError (the share would count both kinds and leave shards unowned). Liveness
   * is a heartbeat in `<base>:shard-group:<group>:instances`, renewed every
   * `min(standbyPollMs, lockRefreshMs)` and living `lockTtlMs` on the Redis clock. An instance
   * over its share for `shardBalanceDelayMs` finishes the batch in flight and releases the
   * extra locks, which wakes the instances under their share at once; an instance at its share
   * takes no free shard. The locks stay the gem's: balancing decides who tries, never who owns.
   *
   * Set by default by `redstreamShards(...).consumers()` (`<base>:<name>`) and `.delayers()`
   * (`<base>:delayer`) and the Nest helpers `redstreamShardConsumers`/`redstreamShardDelayers`;
   * `false` there turns balancing off (every instance then races for every lock, the gem's way).
   * Default for a single worker: none.
   */
  shardGroup?: string | false;
}
