import Redis, { Cluster, RedisOptions } from 'ioredis';
import type { RedisClient } from '../engine/redis-connection';
import { Redstream } from '../engine/redstream';
import { silentLogger } from '../engine/redstream-context';
import { validateNamespace } from '../engine/redstream-keys';
import {
  CliConnectionOptions,
  CliNodeAddress,
  CliConnectionTarget,
  connectionHint,
  describeConnectionTarget,
  resolveConnectionTarget,
} from './cli-connection';
import { CliOperationalError } from './cli-errors';
import { cliMessages } from './cli.messages';

/** The options every command takes. */
export interface GlobalOptions extends CliConnectionOptions {
  namespace?: string;
  json?: boolean;
  progress?: boolean;
}

/** How long the command waits for Redis to accept the connection. */
const CONNECT_TIMEOUT_MS = 5_000;

/** A node connection that fails fast: no retries, no offline queue. */
const FAIL_FAST: RedisOptions = {
  lazyConnect: true,
  connectTimeout: CONNECT_TIMEOUT_MS,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
  enableOfflineQueue: false,
  enableAutoPipelining: true,
};

/** A client for `target` that connects on `connect()` and never retries on its own. */
function createClient(target: CliConnectionTarget): RedisClient {
  switch (target.kind) {
    case 'url':
      return new Redis(target.url, FAIL_FAST);
    case 'sentinel':
      return new Redis({
        ...FAIL_FAST,
        sentinels: target.sentinels,
        name: target.masterName,
        sentinelPassword: target.sentinelPassword,
        // Every sentinel tried once; then the command gives up rather than starting over.
        sentinelRetryStrategy: () => null,
      });
    case 'cluster':
      // The node connections keep ioredis's own offline queue (it forces one: a Cluster sends
      // to a node before that node's socket is up); the Cluster's queue and retries are off.
      return new Cluster(target.nodes, {
        lazyConnect: true,
        enableAutoPipelining: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: () => null,
        redisOptions: { connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0 },
      });
  }
}

/**
 * One command's connection to Redis and its Redstream. The connection fails fast: no retries
 * and no offline queue, since a person (or a script) is waiting for an answer, not a worker
 * that should ride out an outage.
 */
export class CliSession {
  private constructor(
    readonly redstream: Redstream,
    readonly client: RedisClient,
    /** The URL without its password, the Cluster's nodes or the Sentinel master, for messages. */
    readonly url: string,
  ) {}

  static async open(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<CliSession> {
    // A bad namespace is a usage error, told before any connection is made.
    validateNamespace(options.namespace);
    // So is more than one of --redis, --cluster and --sentinel, or --sentinel alone.
    const target = resolveConnectionTarget(options, env);
    const shown = describeConnectionTarget(target);
    const hint = connectionHint(target);
    let client: RedisClient;
    try {
      client = createClient(target);
    } catch (error) {
      throw new CliOperationalError(cliMessages.redisUnreachable(shown, (error as Error).message, hint));
    }
    // The socket's error says why (ECONNREFUSED, ENOTFOUND, WRONGPASS); connect() then only
    // rejects with "Connection is closed" (a Cluster: "None of startup nodes is available").
    let socketError: unknown;
    client.on('error', (error: unknown) => (socketError ??= error));
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      const reason = (await firstNodeFailure(target)) ?? reasonOf(socketError ?? error);
      throw new CliOperationalError(cliMessages.redisUnreachable(shown, reason, hint));
    }
    const redstream = new Redstream({ redis: client, namespace: options.namespace, logger: silentLogger });
    return new CliSession(redstream, client, shown);
  }

  async close(): Promise<void> {
    await this.redstream.close({ drainTimeoutMs: 1_000 });
    this.client.disconnect();
  }
}

/**
 * Why the first Cluster startup node or sentinel that cannot be reached cannot be
 * (ECONNREFUSED, WRONGPASS), or undefined when every one answers (or for a URL, whose own
 * error says why). A Cluster or Sentinel connection that fails says only "Connection is
 * closed": ioredis swallows the nodes' socket errors. The nodes are tried at once, so this
 * waits one connect timeout at most, and only on the way to an error.
 */
async function firstNodeFailure(target: CliConnectionTarget): Promise<string | undefined> {
  if (target.kind === 'url') return undefined;
  const [nodes, password]: [readonly CliNodeAddress[], string | undefined] =
    target.kind === 'cluster' ? [target.nodes, undefined] : [target.sentinels, target.sentinelPassword];
  const failures = await Promise.all(
    nodes.map(async ({ host, port }) => {
      const probe = new Redis({ ...FAIL_FAST, host, port, password });
      let socketError: unknown;
      probe.on('error', (error: unknown) => (socketError ??= error));
      try {
        await probe.connect();
        return undefined;
      } catch (error) {
        return reasonOf(socketError ?? error);
      } finally {
        probe.disconnect();
      }
    }),
  );
  return failures.find((failure) => failure !== undefined);
}

/**
 * The message of a connection error: Node's AggregateError (several addresses tried) has none
 * of its own, and a Cluster's "Failed to refresh slots cache" keeps the node's reason inside.
 */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  const lastNodeError = (error as { lastNodeError?: unknown } | null)?.lastNodeError;
  if (lastNodeError instanceof Error) return reasonOf(lastNodeError);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}
