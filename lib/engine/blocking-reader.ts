import type { RedisClient, RedisConnectionFactory } from './redis-connection';
import { RedstreamReadStalledError } from './errors';
import type { RawStreamEntry } from './message-parser';
import type { CancelWait, SharedBlockingReads } from './shared-blocking-reads';
import { withTimeout } from './with-timeout';

/** Why a shared wait of a worker ended early: its `interrupt()` (a stop, a read ahead dropped). */
class ReadInterruptedError extends Error {}

/**
 * Runs the blocking commands of one worker (XREAD or XREADGROUP BLOCK, BRPOP while on
 * standby) under a watchdog: a command that has not answered by its block time plus
 * `graceMs` (a dead socket, a reply lost across a reconnect) gets its connection replaced and
 * rejects with RedstreamReadStalledError, and the caller simply reads again from where it
 * was. `interrupt()` ends a command in progress at once (for `stop()`).
 *
 * Offset reads (`readAfter`) and standby waits (`waitForList`) go through the Redstream's
 * {@link SharedBlockingReads} when it is enabled (a few connections for all workers), else
 * run on this reader's own connection; `watch` (XREADGROUP) always runs on its own.
 */
export class BlockingReader {
  private client?: RedisClient;
  /** Cancels the shared waits in progress, for `interrupt()`. */
  private readonly waits = new Set<CancelWait>();

  constructor(
    private readonly connections: RedisConnectionFactory,
    private readonly purpose: string,
    private readonly graceMs: number,
    private readonly shared?: SharedBlockingReads,
  ) {}

  /**
   * Up to `count` entries of `streamKey` after `after`, waiting at most `blockMs` for the
   * first (XREAD BLOCK); null when none came.
   */
  readAfter(streamKey: string, after: string, count: number, blockMs: number): Promise<RawStreamEntry[] | null> {
    // Not async: the shared wait's promise as it is, no wrapper per read.
    if (this.shared?.enabled) {
      const shared = this.shared.streams;
      return this.sharedWait((onCancel) =>
        shared.read(streamKey, after, count, { blockMs, graceMs: this.graceMs }, onCancel),
      );
    }
    return this.readAfterOwn(streamKey, after, count, blockMs);
  }

  private async readAfterOwn(
    streamKey: string,
    after: string,
    count: number,
    blockMs: number,
  ): Promise<RawStreamEntry[] | null> {
    const reply = (await this.watch(blockMs, (client) =>
      client.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', streamKey, after),
    )) as [string, RawStreamEntry[]][] | null;
    return reply?.[0]?.[1] ?? null;
  }

  /** Waits until a token is pushed onto the list `key` (BRPOP) or `timeoutMs` passes. */
  async waitForList(key: string, timeoutMs: number): Promise<void> {
    const blockMs = Math.max(timeoutMs, 10);
    if (this.shared?.enabled) {
      const shared = this.shared.lists;
      return this.sharedWait((onCancel) => shared.wait(key, { blockMs, graceMs: this.graceMs }, onCancel));
    }
    await this.watch(blockMs, (client) => client.brpop(key, blockMs / 1000));
  }

  /**
   * Runs `command`, a blocking command that returns after at most `blockMs`, on this reader's
   * connection (opened on first use) under the watchdog.
   */
  async watch<T>(blockMs: number, command: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.connection();
    const limitMs = blockMs + this.graceMs;
    return withTimeout(command(client), limitMs, () => {
      this.replace(client);
      throw new RedstreamReadStalledError(
        `A blocking read (${this.purpose}) did not return within ${limitMs} ms; reconnecting`,
      );
    });
  }

  /**
   * Aborts a command in progress (its promise rejects): closes this reader's connection, and
   * withdraws its shared waits (the shared commands go on for the other workers).
   */
  interrupt(): void {
    if (this.client) this.replace(this.client);
    const waits = [...this.waits];
    this.waits.clear();
    for (const cancel of waits) cancel(new ReadInterruptedError(`${this.purpose}: blocking read interrupted`));
  }

  private async sharedWait<T>(start: (onCancel: (cancel: CancelWait) => void) => Promise<T>): Promise<T> {
    let registered: CancelWait | undefined;
    const wait = start((cancel) => {
      registered = cancel;
      this.waits.add(cancel);
    });
    try {
      return await wait;
    } finally {
      if (registered) this.waits.delete(registered);
    }
  }

  close(): Promise<void> {
    if (this.client) this.replace(this.client);
    return Promise.resolve();
  }

  private connection(): RedisClient {
    this.client ??= this.connections.createBlocking(this.purpose);
    return this.client;
  }

  /** Drops `client` at once (no QUIT: it would wait behind a command still blocking). */
  private replace(client: RedisClient): void {
    if (this.client === client) this.client = undefined;
    this.connections.releaseNow(client);
  }
}
