import { Consumer } from './consumer';
import { DeadLetterPage, DeadLetters, ReplayResult } from './dead-letters';
import { Delayer } from './delayer';
import { GroupConsumer } from './group-consumer';
import { GroupInfo, groupInfo } from './group-info';
import type { GroupConsumerOptions } from './interfaces/group-consumer-options.interface';
import type { ConsumerOptions } from './interfaces/consumer-options.interface';
import type { DelayerOptions } from './interfaces/delayer-options.interface';
import type { ConsumerLag, DelayBacklog, GroupLag, LagOptions } from './interfaces/lag.interface';
import type { RedstreamStatus, StatusOptions } from './interfaces/redstream-status.interface';
import type { ProducerOptions } from './interfaces/producer-options.interface';
import type { RedstreamPayload } from './interfaces/redstream-message.interface';
import type { BlockingReadsMode, LockExpiryEvents, RedstreamOptions } from './interfaces/redstream-options.interface';
import type { TrimmerOptions } from './interfaces/trimmer-options.interface';
import { Producer } from './producer';
import { RedisConnectionFactory, RedisClient } from './redis-connection';
import { ShardGroups } from './shard-group-membership';
import { consoleLogger, RedstreamContext, resolveLogger } from './redstream-context';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import { RedstreamKeys, validateConsumerName, validateStreamName } from './redstream-keys';
import { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_REDIS_URL } from './redstream-defaults';
import { RedstreamClosedError } from './errors';
import { LOCK_EXPIRY_EVENTS, LockExpiryWatch } from './lock-expiry-watch';
import { oneOf } from './option-validation';
import { BLOCKING_READS_MODES, SharedBlockingReads } from './shared-blocking-reads';
import { StatusCollector } from './redstream-status';
import { StreamLagReader } from './stream-lag';
import { RedstreamTelemetry } from './telemetry/redstream-telemetry';
import { Trimmer } from './trimmer';
import { withTimeout } from './with-timeout';

/**
 * The engine without Nest: one per application and Redis. It owns the connections and
 * creates producers, consumers, delayers and trimmers that share them.
 *
 * @example
 * const redstream = new Redstream({ redis: 'redis://127.0.0.1:6379' });
 * const producer = redstream.producer();
 * const indexer = redstream.consumer({ stream: 'products', name: 'indexer', handler: async (messages) => { ... } });
 * indexer.start();
 * // on shutdown
 * await indexer.stop();
 * await redstream.close();
 */
export class Redstream implements RedstreamContext {
  readonly keys: RedstreamKeys;
  readonly connections: RedisConnectionFactory;
  readonly logger: RedstreamLogger;
  readonly lockExpiry: LockExpiryWatch;
  readonly sharedReads: SharedBlockingReads;
  /** @internal Metrics and spans through `@opentelemetry/api`, when installed (README "Operations"). */
  readonly telemetry: RedstreamTelemetry;
  readonly shardGroups: ShardGroups;
  private closing?: Promise<void>;
  /** Workers created here, stopped by `close()` before their connections go. */
  private readonly workers = new Set<{ retire(): Promise<void> }>();

  constructor(options: RedstreamOptions = {}) {
    this.logger = resolveLogger(options.logger, 'Redstream: logger', consoleLogger);
    this.keys = new RedstreamKeys(options.namespace);
    this.connections = new RedisConnectionFactory(options.redis ?? DEFAULT_REDIS_URL, this.logger);
    this.lockExpiry = new LockExpiryWatch(
      this.connections,
      this.keys,
      this.logger,
      oneOf<LockExpiryEvents>(options.lockExpiryEvents, 'Redstream: lockExpiryEvents', LOCK_EXPIRY_EVENTS, 'listen'),
    );
    this.sharedReads = new SharedBlockingReads(
      this.connections,
      this.keys,
      this.logger,
      oneOf<BlockingReadsMode>(options.blockingReads, 'Redstream: blockingReads', BLOCKING_READS_MODES, 'shared'),
    );
    this.telemetry = new RedstreamTelemetry(() => this.lagReader());
    this.shardGroups = new ShardGroups(this.connections, this.keys, this.logger);
  }

  /** The shared connection for ordinary commands. */
  get client(): RedisClient {
    return this.connections.client();
  }

  producer(options?: ProducerOptions): Producer {
    return new Producer(this, options);
  }

  consumer<TPayload extends object = RedstreamPayload>(options: ConsumerOptions<TPayload>): Consumer<TPayload> {
    return this.track(() => new Consumer<TPayload>(this, options));
  }

  /**
   * A member of the Redis consumer group `options.group` on `options.stream`; every instance
   * (in every process) works at once, each entry going to one of them. Call `start()`.
   */
  groupConsumer<TPayload extends object = RedstreamPayload>(
    options: GroupConsumerOptions<TPayload>,
  ): GroupConsumer<TPayload> {
    return this.track(() => new GroupConsumer<TPayload>(this, options));
  }

  delayer(options: DelayerOptions): Delayer {
    return this.track(() => new Delayer(this, options));
  }

  trimmer(options: TrimmerOptions): Trimmer {
    return this.track(() => new Trimmer(this, options));
  }

  /** Number of entries in a stream. */
  async streamLength(stream: string): Promise<number> {
    return this.client.xlen(this.keys.stream(validateStreamName(stream)));
  }

  /** Number of entries waiting in a stream's delay stream. */
  async delayStreamLength(stream: string): Promise<number> {
    return this.client.xlen(this.keys.delayStream(validateStreamName(stream)));
  }

  /** The offset a consumer committed, or null before its first commit. */
  async committedOffset(stream: string, consumer: string): Promise<string | null> {
    return this.client.get(this.keys.offset(validateStreamName(stream), validateConsumerName(consumer)));
  }

  /** Consumer names registered on a stream (read by the trimmer). */
  async registeredConsumers(stream: string): Promise<string[]> {
    return (await this.client.smembers(this.keys.consumerRegistry(validateStreamName(stream)))).sort();
  }

  /**
   * Removes a consumer name from a stream's registry, so the trimmer stops waiting for it.
   * Do this only for a consumer that is gone for good; its offset stays until you delete it.
   */
  async forgetConsumer(stream: string, consumer: string): Promise<void> {
    await this.client.srem(this.keys.consumerRegistry(validateStreamName(stream)), validateConsumerName(consumer));
  }

  /**
   * The dead letters of `stream` (entries in `<stream>.dead`), oldest first: `count` per page
   * (default 100) from `start` (inclusive; pass the previous page's `nextStart`).
   */
  deadLetters(stream: string, options: { start?: string; count?: number } = {}): Promise<DeadLetterPage> {
    return this.deadLetterStore().list(stream, options);
  }

  /**
   * Writes the payloads of the dead letters `ids` (default: all there are now) back to
   * `stream` as new entries, oldest first, each deleted from `<stream>.dead` in the same
   * script as its new entry is written: never lost, never replayed twice.
   */
  replayDeadLetters(stream: string, options: { ids?: readonly string[] } = {}): Promise<ReplayResult> {
    return this.deadLetterStore().replay(stream, options);
  }

  /** Deletes the dead letters `ids` (default: all) of `stream`; returns how many were deleted. */
  dropDeadLetters(stream: string, options: { ids?: readonly string[] } = {}): Promise<number> {
    return this.deadLetterStore().drop(stream, options);
  }

  /**
   * Members (pending count, idle time), lag, pending count and oldest pending entry of the
   * consumer group `group` on `stream`; `undefined` when the stream or group does not exist.
   */
  groupInfo(stream: string, group: string): Promise<GroupInfo | undefined> {
    return groupInfo(this.client, this.keys, stream, group);
  }

  /**
   * How far offset consumer `consumer` of `stream` is behind: the entries after its committed
   * offset (a count) and the age of the oldest of them, from Redis alone. O(1) when the offset
   * is before the stream's first entry or at its end; otherwise the entries after it are
   * counted, and beyond `maxCount` (default 10000) each side estimated (`exact: false`). See
   * the README's "Lag" for the measured cost.
   */
  lag(stream: string, consumer: string, options?: LagOptions): Promise<ConsumerLag> {
    return this.lagReader().consumerLag(stream, consumer, options);
  }

  /**
   * How far consumer group `group` of `stream` is behind: entries not delivered to any member
   * yet (Redis's own `lag`, O(1), or counted as for `lag`), the age of the oldest of them, and
   * the pending entries; undefined when the stream or the group does not exist.
   */
  groupLag(stream: string, group: string, options?: LagOptions): Promise<GroupLag | undefined> {
    return this.lagReader().groupLag(stream, group, options);
  }

  /** The Delayer's backlog of `stream`: delay messages waiting in `<stream>.delay` and the oldest one's age. O(1). */
  delayBacklog(stream: string): Promise<DelayBacklog> {
    return this.lagReader().delayBacklog(stream);
  }

  /**
   * Every stream of the namespace (or only `options.streams`) at once: length, delay backlog,
   * dead letters, offset consumers (offset, lag, whether an instance holds the lock and its
   * owner id) and consumer groups (members, pending, lag, oldest pending age). Consumers are
   * the registered ones and those with an offset key. Streams are found with a SCAN, which
   * walks Redis's whole keyspace; the rest is pipelined. The `redstream status --json` output.
   */
  status(options?: StatusOptions): Promise<RedstreamStatus> {
    return new StatusCollector(this.client, this.keys).status(options);
  }

  /**
   * Stops every consumer, group consumer, delayer and trimmer created here (as their `stop()` does: a batch in
   * flight finishes and commits), then closes the connections this instance opened; a
   * supplied client stays open. Waits at most `drainTimeoutMs` (default 10 s) for the
   * workers before closing the connections; a handler still running then cannot commit, and
   * its batch is delivered again. Idempotent: later calls return the first call's promise.
   */
  close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    // Stopping first matters during an outage: a worker whose connection was closed under it
    // while reconnecting would wait for ever on a command that never settles.
    this.closing ??= (async () => {
      // Retired, a worker's start() throws instead of working on closed connections.
      const stopped = Promise.all([...this.workers].map((worker) => worker.retire()));
      await withTimeout(stopped, drainTimeoutMs, () => undefined);
      this.lockExpiry.close();
      this.sharedReads.close();
      this.telemetry.close();
      this.shardGroups.close();
      await this.connections.close();
    })();
    return this.closing;
  }

  private lagReader(): StreamLagReader {
    return new StreamLagReader(this.client, this.keys);
  }

  private deadLetterStore(): DeadLetters {
    return new DeadLetters(this.client, this.keys);
  }

  private track<TWorker extends { retire(): Promise<void> }>(create: () => TWorker): TWorker {
    // Created after close(), it would open connections nothing closes.
    if (this.closing) throw new RedstreamClosedError('Redstream: cannot create a worker after close()');
    const worker = create();
    this.workers.add(worker);
    return worker;
  }
}
