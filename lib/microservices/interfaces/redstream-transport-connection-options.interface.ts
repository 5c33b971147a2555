import type { RedisConnection, RedstreamLogger } from '../../engine';

/** Where the transport's own engine connects; each server and client owns one and closes it on `close()`. */
export interface RedstreamTransportConnectionOptions {
  /**
   * How to reach Redis: a URL, ioredis options, or an ioredis client of your own (never closed
   * by the transport). Default `redis://127.0.0.1:6379`.
   */
  redis?: RedisConnection;
  /** Prefix of every key, as for `RedstreamModule` and the gem; producers and consumers must agree. */
  namespace?: string;
  /**
   * Where to log: any object with `log`, `warn` and `error`, or `false` for nothing.
   * Default: Nest's `Logger` with the context `RedstreamTransport`.
   */
  logger?: RedstreamLogger | false;
}
