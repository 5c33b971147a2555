import Redis, { Cluster, Command, RedisOptions } from 'ioredis';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import { withTimeout } from './with-timeout';

/** A connected ioredis client: a single node (or Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * How to reach Redis: a URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS), ioredis
 * options (TLS, AUTH, Sentinel all pass through), or a client of your own. A client you pass
 * stays yours: the library never closes it, and duplicates it for its blocking reads.
 */
export type RedisConnection = string | RedisOptions | RedisClient;

/**
 * How long an owned non-blocking connection may leave a sent command without any reply
 * before its socket counts as dead and is replaced (ioredis `socketTimeout`; set your own in
 * the ioredis options). A half-open TCP connection (a peer gone without FIN or RST, a NAT or
 * load balancer that dropped the flow) otherwise hangs every command on it for ever. The
 * unanswered commands are re-sent on the new connection: offset commits and the Delayer's
 * step are idempotent, Producer writes are at least once.
 */
export const DEFAULT_SOCKET_TIMEOUT_MS = 10_000;

// Owned connections fail a command after a few reconnect attempts instead of queueing it for
// ever: every caller of ours retries with backoff and logs, so an outage is visible. They
// connect on their first command, so an application whose bootstrap fails before anything
// was sent (a Producer is constructed early) leaves no socket open that keeps it alive.
const OWNED_DEFAULTS: RedisOptions = {
  lazyConnect: true,
  maxRetriesPerRequest: 3,
  enableAutoPipelining: true,
  socketTimeout: DEFAULT_SOCKET_TIMEOUT_MS,
};

// A blocking read is silent for its whole BLOCK time by design: a socket timeout would cut
// it. The BlockingReader's watchdog guards these connections instead.
const BLOCKING_OVERRIDES: RedisOptions = { enableAutoPipelining: false, socketTimeout: undefined };

export function isRedisClient(value: unknown): value is RedisClient {
  // Duck-typed rather than instanceof: the user's ioredis may be another copy or major.
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Redis).duplicate === 'function' &&
    typeof (value as Redis).xadd === 'function'
  );
}

/** Describes a connection option for logs without its password. */
export function describeConnection(connection: RedisConnection): string {
  if (typeof connection === 'string') return connection.replace(/\/\/([^@/]*)@/, '//***@');
  if (isRedisClient(connection)) return 'a client supplied by the application';
  const options = connection as RedisOptions;
  if (options.sentinels?.length) {
    // host and port are ignored with sentinels: naming them would point an operator at the
    // wrong machine during exactly the incident where the log line matters.
    const sentinels = options.sentinels.map((sentinel) => `${sentinel.host ?? '127.0.0.1'}:${sentinel.port ?? 26379}`);
    return `Sentinel master "${options.name ?? 'mymaster'}" via ${sentinels.join(', ')}`;
  }
  return `${options.host ?? '127.0.0.1'}:${options.port ?? 6379}`;
}

/**
 * Creates and owns the engine's Redis connections: one shared connection for ordinary
 * commands, one for the Producers, and the blocking ones asked for (a blocking XREAD or BRPOP
 * holds its connection for the whole BLOCK time): the shared blocking reads' two, the
 * expiry subscriber, and one per worker that blocks on its own. `close()` closes only what it
 * created.
 */
export class RedisConnectionFactory {
  private shared?: RedisClient;
  private producerConnection?: RedisClient;
  private readonly owned = new Set<RedisClient>();
  private closing?: Promise<void>;
  private readonly lastErrorLog = new WeakMap<RedisClient, number>();
  private readonly reconnects = new WeakMap<RedisClient, number>();

  constructor(
    readonly connection: RedisConnection,
    private readonly logger?: RedstreamLogger,
  ) {}

  /** The shared connection for non-blocking commands. */
  client(): RedisClient {
    if (!this.shared) {
      if (isRedisClient(this.connection)) {
        this.shared = this.connection;
        this.countReconnects(this.shared);
      } else {
        this.shared = this.create('shared');
      }
    }
    return this.shared;
  }

  /**
   * How many times `client` (one of this factory's, or the supplied one) started to reconnect
   * so far. ioredis re-sends the commands a lost connection left unanswered, so a command sent
   * before a reconnect may have run twice: a caller compares the count before and after.
   */
  reconnectCount(client: RedisClient): number {
    return this.reconnects.get(client) ?? 0;
  }

  /**
   * The connection Producers write on. Owned, it keeps commands queued while Redis is
   * unreachable instead of failing them after a few reconnect attempts, so a short outage
   * delays writes rather than failing them; every Producer call is bounded by its own
   * `commandTimeoutMs` (RedstreamTimeoutError). Apart from the shared connection, a WAIT
   * cannot delay the workers' lock refreshes. A supplied client is used as it is.
   */
  producerClient(): RedisClient {
    if (isRedisClient(this.connection)) return this.connection;
    this.producerConnection ??= this.create('producer', { maxRetriesPerRequest: null });
    return this.producerConnection;
  }

  /** A new connection of its own for a blocking reader; closed by `release()` or `close()`. */
  createBlocking(purpose: string): RedisClient {
    return this.create(purpose, BLOCKING_OVERRIDES);
  }

  /** Closes one connection this factory created. */
  async release(client: RedisClient): Promise<void> {
    if (!this.owned.delete(client)) return;
    await quietly(client);
  }

  /**
   * Closes one connection this factory created at once, without the QUIT that would wait
   * behind a blocking command still running on it.
   */
  releaseNow(client: RedisClient): void {
    if (!this.owned.delete(client)) return;
    disconnectNow(client, true);
  }

  /** Closes every connection this factory created. Idempotent; a supplied client stays open. */
  close(): Promise<void> {
    this.closing ??= Promise.all([...this.owned].map((client) => this.release(client))).then(() => undefined);
    return this.closing;
  }

  private create(purpose: string, overrides: RedisOptions = {}): RedisClient {
    let client: RedisClient;
    if (isRedisClient(this.connection)) {
      client = duplicate(this.connection, overrides);
    } else if (typeof this.connection === 'string') {
      client = new Redis(this.connection, { ...OWNED_DEFAULTS, ...overrides });
    } else {
      client = new Redis({ ...OWNED_DEFAULTS, ...this.connection, ...overrides });
    }
    client.on('error', (error: Error) => this.logConnectionError(client, purpose, error));
    skipDisconnectTimerOnClosedSocket(client);
    this.countReconnects(client);
    this.owned.add(client);
    return client;
  }

  private countReconnects(client: RedisClient): void {
    client.on('reconnecting', () => this.reconnects.set(client, this.reconnectCount(client) + 1));
  }

  // ioredis emits an error on every failed reconnect attempt; one line per connection every
  // 5 s says the same without flooding the log during an outage.
  private logConnectionError(client: RedisClient, purpose: string, error: Error): void {
    const now = Date.now();
    if (now - (this.lastErrorLog.get(client) ?? 0) < 5_000) return;
    this.lastErrorLog.set(client, now);
    this.logger?.error(
      `Redis connection (${purpose}) to ${describeConnection(this.connection)} failed: ${error.message}; retrying`,
    );
  }
}

/** A command routed by a key given apart, for those whose key ioredis cannot find. */
class KeyedCommand extends Command {
  constructor(
    name: string,
    args: (string | number)[],
    private readonly routingKey: string,
  ) {
    super(name, args, { replyEncoding: 'utf8' });
  }

  // Cluster.sendCommand picks the node by the slot of the first of these keys.
  override getKeys(): string[] {
    return [this.routingKey];
  }
}

/**
 * Runs `XINFO`/`XGROUP` `args` on the node of `key`. Their first argument is a subcommand,
 * and ioredis (its command table) finds no key in them: sent alone to a Cluster they go to
 * any node and follow its MOVED reply, but with `enableAutoPipelining` a Cluster files them
 * by the slot of the subcommand (`GROUPS`) into the pipeline of another node, and ioredis
 * does not re-send a MOVED inside a pipeline that also holds writes: the caller gets the
 * MOVED. On a Cluster they go as commands of their own (no auto-pipeline), routed by `key`;
 * a single node keeps its pipelines, where there is nothing to route.
 */
export function sendKeyed(
  client: RedisClient,
  name: 'xinfo' | 'xgroup',
  key: string,
  args: (string | number)[],
): Promise<unknown> {
  if ((client as { isCluster?: boolean }).isCluster !== true) return (client as Redis).call(name, ...args);
  return client.sendCommand(new KeyedCommand(name, args, key)) as Promise<unknown>;
}

/**
 * A new connection like `client`, with `overrides`. A Cluster takes its node options under
 * `redisOptions` (its own `duplicate()` has startup nodes as first parameter), except for
 * `enableAutoPipelining`, which is a Cluster option.
 */
function duplicate(client: RedisClient, overrides: RedisOptions): RedisClient {
  if ((client as { isCluster?: boolean }).isCluster !== true) return (client as Redis).duplicate(overrides);
  const cluster = client as Cluster;
  const { enableAutoPipelining, ...nodeOverrides } = overrides;
  return cluster.duplicate([], {
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
    redisOptions: { ...cluster.options.redisOptions, ...nodeOverrides },
  });
}

/**
 * ioredis' disconnect() ends the socket and arms a `disconnectTimeout` (2 s) timer that only
 * the socket's `close` event clears. On a socket that is already closed (between reconnect
 * attempts with Redis down, or a ready check failed by a closed connection, which ioredis
 * answers with a disconnect of its own) that event has fired, and the timer runs out in full:
 * it kept the process alive 2 s after close(). With the closed socket detached, disconnect()
 * only stops the reconnects. (ioredis internals, hence the guarded access; a Cluster has no
 * connector.)
 */
function skipDisconnectTimerOnClosedSocket(client: RedisClient): void {
  const connector = (client as unknown as { connector?: { stream?: { destroyed?: boolean }; disconnect?: () => void } })
    .connector;
  const disconnect = connector?.disconnect;
  if (!connector || typeof disconnect !== 'function') return;
  connector.disconnect = () => {
    if (connector.stream?.destroyed === true) connector.stream = undefined;
    disconnect.call(connector);
  };
}

async function quietly(client: RedisClient): Promise<void> {
  let saidGoodbye = false;
  if (client.status === 'ready') {
    try {
      saidGoodbye = await withTimeout(
        client.quit().then(() => true),
        1_000,
        () => false,
      );
    } catch {
      // A connection that fails to say goodbye is closed below all the same.
    }
  }
  disconnectNow(client, !saidGoodbye);
}

/**
 * `client.disconnect()` without the timers ioredis leaves behind, which would keep the process
 * alive seconds after close(); `destroy` also closes the socket at once instead of half-closing
 * it. (ioredis internals, hence the guarded access; a Cluster has none of them.)
 */
function disconnectNow(client: RedisClient, destroy: boolean): void {
  const internals = client as unknown as {
    stream?: { destroy?: () => void };
    socketTimeoutTimer?: NodeJS.Timeout;
  };
  if (client.status !== 'end') client.disconnect();
  // Without a goodbye (a socket that never became ready, a blackholed Redis that accepts and
  // never answers, a QUIT without reply) disconnect() only half-closes the socket, which then
  // stays open until ioredis destroys it 2 s later. Nothing useful can come over it any more.
  if (destroy) internals.stream?.destroy?.();
  // ioredis clears its `socketTimeout` timer (10 s) only when data arrives, never on close: a
  // command left unanswered by a closed or dead socket would keep it running.
  if (internals.socketTimeoutTimer !== undefined) {
    clearTimeout(internals.socketTimeoutTimer);
    internals.socketTimeoutTimer = undefined;
  }
}
