import type { RedisConnection } from '../redis-connection';
import type { RedstreamLogger } from './redstream-logger.interface';

/**
 * How standbys learn that a crashed owner's lock expired: `'listen'` (the default) uses Redis's
 * expired-key events where Redis publishes them, `'configure'` also turns them on with CONFIG SET,
 * `false` never listens (standbys poll). See {@link RedstreamOptions.lockExpiryEvents}.
 */
export type LockExpiryEvents = 'listen' | 'configure' | false;

/** Options of a {@link Redstream} engine instance. */
export interface RedstreamOptions {
  /**
   * How to reach Redis: a URL, ioredis options, or an ioredis client of your own (never
   * closed by the library). Default `redis://127.0.0.1:6379`.
   */
  redis?: RedisConnection;
  /**
   * Prefix of every key (`<namespace>:redstream:...`), for several applications on one Redis.
   * Must match the gem's `Redstream.namespace` when sharing streams with a Ruby app.
   */
  namespace?: string;
  /**
   * Where to log: any object with `log`, `warn` and `error` (Nest's `Logger`, `console`), or
   * `false` for nothing. Default: the console, prefixed `[redstream]`.
   */
  logger?: RedstreamLogger | false;
  /**
   * Fast takeover after a crash. A crashed owner's lock expires `lockTtlMs` after its last
   * refresh; polling standbys notice it within one more `standbyPollMs`. Where Redis publishes
   * expired-key events (`notify-keyspace-events` containing `E` and `x`, or `E` and `A`), a
   * standby takes over as soon as the lock expires instead.
   *
   * - `'listen'` (default): when a standby first waits, opens one subscriber connection for
   *   this instance on `__keyevent@<db>__:expired` and checks once, with a probe key that expires
   *   at once, that the events come. They wake this instance's standbys through the lock's
   *   notify list, as a graceful release does.
   * - `'configure'`: as `'listen'`, after adding `E` and `x` to the server's
   *   `notify-keyspace-events` with CONFIG SET (merged with the flags set there, none removed;
   *   set again after every reconnect, since a restarted Redis forgets it).
   * - `false`: no subscriber; standbys poll every `standbyPollMs`.
   *
   * When the events cannot be had (no `E`/`x` and CONFIG refused by an ACL or a managed Redis,
   * SUBSCRIBE refused by an ACL) one warning says so and standbys poll; after a reconnect the
   * probe runs again, and one warning says when events stopped coming. Not on Redis Cluster
   * (each node publishes its own events): standbys poll there.
   */
  lockExpiryEvents?: LockExpiryEvents;
}
