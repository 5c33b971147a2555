import type {
  BlockingReadsMode,
  Duration,
  LockExpiryEvents,
  ProducerOptions,
  RedisConnection,
  RedstreamLogger,
} from '../../engine';
import type { RedstreamConsumerOptions, RedstreamWorkerSettings } from './redstream-consumer-options.interface';
import type { RedstreamGroupConsumerOptions } from './redstream-group-consumer-options.interface';

/**
 * Defaults for every consumer, group consumer and delayer of the application, where the
 * handler takes the option (a group consumer has no lock settings); decorator options win.
 */
export interface RedstreamConsumerDefaults extends RedstreamWorkerSettings {
  /** Default `handlerTimeoutMs` of consumers and group consumers (delayers do not use it). Default: no timeout. */
  handlerTimeoutMs?: number;
  /** Default `deadLetter` of offset consumers (see {@link RedstreamConsumerOptions.deadLetter}). Default: off. */
  deadLetter?: RedstreamConsumerOptions['deadLetter'];
}

/** What the module's trimmers do. */
export interface RedstreamTrimmerModuleOptions {
  /**
   * When to trim: an interval in ms (or a duration such as `'30s'`), or a cron expression
   * with 5 or 6 fields such as `'0 * * * *'`, run by croner. Default 30000 ms, as the gem's.
   */
  schedule?: Duration;
  /**
   * Consumer names per stream that must have committed an entry before it is deleted, in
   * addition to the names registered in Redis and the consumers of this application: list
   * consumers of other services here until they have started once.
   */
  consumerNames?: Record<string, string[]>;
  /**
   * Consumer groups per stream whose pending and undelivered entries must be kept, in addition
   * to the groups that exist on the stream and the group consumers of this application: list
   * groups of other services here until they have started once.
   */
  groupNames?: Record<string, string[]>;
}

/**
 * Overrides of one handler's options from configuration, winning over the decorator.
 * Keys of {@link RedstreamModuleOptions.handlers} are `'<stream>:<name>'` for a consumer,
 * `'<stream>:<group>'` for a group consumer and `'<stream>:delayer'` for a delayer. An option
 * the handler's kind does not take (e.g. `delay` for a consumer, `lockTtlMs` for a group
 * consumer) fails the bootstrap.
 */
export interface RedstreamHandlerOverrides
  extends
    Partial<Omit<RedstreamConsumerOptions, 'stream' | 'name'>>,
    Partial<Omit<RedstreamGroupConsumerOptions, 'stream' | 'group'>> {
  /** A delayer's delay: ms or a duration such as `'5m'`. Only for delayer keys. */
  delay?: Duration;
}

/** Options of `RedstreamModule.forRoot()` (or what `forRootAsync()`'s factory returns). */
export interface RedstreamModuleOptions {
  /**
   * How to reach Redis: a URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS), ioredis
   * options, or an ioredis client of your own, which the module uses but never closes.
   * Default `redis://127.0.0.1:6379`.
   */
  redis?: RedisConnection;
  /**
   * Prefix of every key (`<namespace>:redstream:...`), for several applications on one Redis.
   * Must match the gem's `Redstream.namespace` when sharing streams with a Ruby application.
   */
  namespace?: string;
  /**
   * Where to log; `false` logs nothing. Default: Nest's `Logger` with context `Redstream`. Nest's
   * `Logger` and `ConsoleLogger` (and any logger with `write`) get each line with its context as
   * fields (see RedstreamLogRecord); other loggers get the text.
   */
  logger?: RedstreamLogger | false;
  /**
   * How standbys learn that a crashed owner's lock expired: `'listen'` (default) for Redis's
   * expired-key events where Redis publishes them, `'configure'` to also turn them on (CONFIG SET,
   * flags merged), `false` to only poll. See the engine's `RedstreamOptions.lockExpiryEvents`.
   */
  lockExpiryEvents?: LockExpiryEvents;
  /**
   * `'shared'` (default): the workers' blocking reads share a few connections (at most four for
   * the instance, group consumers and Redis Cluster aside); `'per-worker'`: one connection per
   * worker. See the engine's `RedstreamOptions.blockingReads`.
   */
  blockingReads?: BlockingReadsMode;
  /** Worker settings of every consumer and delayer unless the decorator or `handlers` set them. */
  consumerDefaults?: RedstreamConsumerDefaults;
  /** Options of the injectable `Producer`. */
  producer?: ProducerOptions;
  /**
   * Trimming of the streams this application consumes (one trimmer per stream, HA-locked
   * across instances); `false` runs none, e.g. when another service trims. Default: every 30 s.
   */
  trimmer?: false | RedstreamTrimmerModuleOptions;
  /**
   * Per-handler overrides from configuration, keyed `'<stream>:<name>'` (consumers),
   * `'<stream>:<group>'` (group consumers) or `'<stream>:delayer'` (delayers); they win over the
   * decorators. `{ enabled: false }` turns a handler off. A key names one handler: a group
   * named like a consumer of the same stream in this application fails the bootstrap.
   */
  handlers?: Record<string, RedstreamHandlerOverrides>;
  /**
   * `false`: start no consumer, delayer or trimmer in this process; the `Producer` still works
   * (e.g. for API pods while workers run elsewhere). Handlers are still validated. Default `true`.
   */
  backgroundServices?: boolean;
  /**
   * `false`: do not start the background services on application bootstrap; start and stop
   * them yourself through `RedstreamRegistry`. Default `true`.
   */
  autoStart?: boolean;
  /**
   * How long application shutdown waits for handlers in flight to finish and commit, in ms.
   * A batch still running then stays uncommitted and is delivered again. Default 10000.
   */
  drainTimeoutMs?: number;
  /**
   * Fail the application's bootstrap (`app.init()` / `NestFactory.create...`) with a
   * `RedstreamConnectionError` naming the connection (password masked) when Redis does not
   * answer PING within `timeoutMs` (default 5000), for deployments that prefer a
   * crash-looping pod to one that retries quietly. `true` uses the default timeout.
   * Default `false`: the application boots, logs, and catches up once Redis is reachable.
   */
  requireRedisAtBootstrap?: boolean | { timeoutMs?: number };
}
