import type { RedisClient, RedisConnectionFactory } from './redis-connection';
import { RedstreamReadStalledError } from './errors';
import { withTimeout } from './with-timeout';

/**
 * Runs the blocking commands of one worker (XREAD or XREADGROUP BLOCK, BRPOP while on
 * standby) on a connection of its own, under a watchdog: a command that has not answered by
 * its block time plus `graceMs` (a dead socket, a reply lost across a reconnect) gets its
 * connection replaced and rejects with RedstreamReadStalledError, and the caller simply reads
 * again from where it was. `interrupt()` ends a command in progress at once (for `stop()`).
 */
export class BlockingReader {
  private client?: RedisClient;

  constructor(
    private readonly connections: RedisConnectionFactory,
    private readonly purpose: string,
    private readonly graceMs: number,
  ) {}

  /**
   * Runs `command`, a blocking command that returns after at most `blockMs`, on this reader's
   * connection (opened on first use) under the watchdog.
   */
  async watch<T>(blockMs: number, command: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.connection();
    const limitMs = blockMs + this.graceMs;
    return withTimeout(command(client), limitMs, () => {
      void this.replace(client);
      throw new RedstreamReadStalledError(
        `A blocking read (${this.purpose}) did not return within ${limitMs} ms; reconnecting`,
      );
    });
  }

  /** Aborts a command in progress (its promise rejects) by closing the connection. */
  interrupt(): void {
    if (this.client) void this.replace(this.client);
  }

  async close(): Promise<void> {
    if (this.client) await this.replace(this.client);
  }

  private connection(): RedisClient {
    this.client ??= this.connections.createBlocking(this.purpose);
    return this.client;
  }

  private async replace(client: RedisClient): Promise<void> {
    if (this.client === client) this.client = undefined;
    client.disconnect();
    await this.connections.release(client);
  }
}
