import type { RedisConnection } from '../redis-connection';
import type { RedstreamLogger } from './redstream-logger.interface';

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
}
