import Redis from 'ioredis';
import { describeConnection } from '../engine/redis-connection';
import { Redstream } from '../engine/redstream';
import { silentLogger } from '../engine/redstream-context';
import { DEFAULT_REDIS_URL } from '../engine/redstream-defaults';
import { validateNamespace } from '../engine/redstream-keys';
import { CliOperationalError } from './cli-errors';
import { cliMessages } from './cli.messages';

/** The options every command takes. */
export interface GlobalOptions {
  redis?: string;
  namespace?: string;
  json?: boolean;
  progress?: boolean;
}

/** How long the command waits for Redis to accept the connection. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * One command's connection to Redis and its Redstream. The connection fails fast: no retries
 * and no offline queue, since a person (or a script) is waiting for an answer, not a worker
 * that should ride out an outage.
 */
export class CliSession {
  private constructor(
    readonly redstream: Redstream,
    readonly client: Redis,
    /** The URL without its password, for messages. */
    readonly url: string,
  ) {}

  static async open(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<CliSession> {
    // A bad namespace is a usage error, told before any connection is made.
    validateNamespace(options.namespace);
    const url = options.redis ?? env.REDIS_URL ?? DEFAULT_REDIS_URL;
    const shown = describeConnection(url);
    let client: Redis;
    try {
      client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: CONNECT_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        enableOfflineQueue: false,
        enableAutoPipelining: true,
      });
    } catch (error) {
      throw new CliOperationalError(cliMessages.redisUnreachable(shown, (error as Error).message));
    }
    // The socket's error says why (ECONNREFUSED, ENOTFOUND, WRONGPASS); connect() then only
    // rejects with "Connection is closed".
    let socketError: unknown;
    client.on('error', (error: unknown) => (socketError ??= error));
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      throw new CliOperationalError(cliMessages.redisUnreachable(shown, reasonOf(socketError ?? error)));
    }
    const redstream = new Redstream({ redis: client, namespace: options.namespace, logger: silentLogger });
    return new CliSession(redstream, client, shown);
  }

  async close(): Promise<void> {
    await this.redstream.close({ drainTimeoutMs: 1_000 });
    this.client.disconnect();
  }
}

/** The message of a connection error: Node's AggregateError (several addresses tried) has none of its own. */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}
