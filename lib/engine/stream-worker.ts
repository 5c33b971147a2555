import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { abortableSleep } from './abortable-sleep';
import { Backoff } from './backoff';
import { BlockingReader } from './blocking-reader';
import { RedstreamLockLostError } from './errors';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import type { ReadingWorkerOptions } from './interfaces/worker-options.interface';
import type { RawStreamEntry } from './message-parser';
import type { RedisClient } from './redis-connection';
import type { RedstreamContext } from './redstream-context';
import { scripts } from './scripts';
import { StreamLock } from './stream-lock';
import { resolveWorkerOptions, ResolvedWorkerOptions } from './worker-defaults';

/** Events of a Consumer or Delayer, for observability and tests. */
export interface StreamWorkerEvents {
  /** This instance took the lock and works now, starting after `offset`. */
  active: [offset: string];
  /** This instance lost or could not take the lock and waits as a hot standby. */
  standby: [reason: string];
  /** An offset was committed after a batch was handled. */
  committed: [offset: string, count: number];
  /** Entries that could not be parsed were skipped. */
  rejected: [entries: { id: string; reason: string }[]];
  /** Something failed and will be retried after `retryInMs`. */
  failed: [error: Error, retryInMs: number];
}

/** Thrown inside the loop to leave a batch unfinished because `stop()` was called. */
class StopRequested extends Error {}

/**
 * The loop Consumer and Delayer share: win the (stream, name) lock or wait as a hot standby,
 * read batches after the committed offset with a watched blocking XREAD, process them, and
 * commit fenced by the lock. Errors are logged and retried with a capped backoff.
 */
export abstract class StreamWorker extends EventEmitter<StreamWorkerEvents> {
  protected readonly options: ResolvedWorkerOptions;
  protected readonly logger: RedstreamLogger;
  protected readonly client: RedisClient;
  protected readonly lock: StreamLock;
  protected readonly streamKey: string;
  protected readonly offsetKey: string;
  protected offset = '0-0';
  private readonly reader: BlockingReader;
  private readonly backoff: Backoff;
  private stopping = false;
  private readonly abort = new AbortController();
  private running?: Promise<void>;
  private stopped?: Promise<void>;
  private active = false;
  /** The next batch, read while the previous commit was on its way (see `commit`). */
  private prefetched?: { offset: string; read: Promise<RawStreamEntry[] | null>; settled: boolean };

  protected constructor(
    protected readonly context: RedstreamContext,
    /** The stream read: the user's stream, or `<stream>.delay` for the Delayer. */
    readonly readStream: string,
    /** The consumer name (`delayer` for the Delayer). */
    readonly name: string,
    lockName: string,
    options: ReadingWorkerOptions,
    /** How this worker is named in logs and errors. */
    readonly label: string,
  ) {
    super();
    this.options = resolveWorkerOptions(options, label);
    this.logger = options.logger ?? context.logger;
    this.client = context.connections.client();
    this.streamKey = context.keys.stream(readStream);
    this.offsetKey = context.keys.offset(readStream, name);
    const lockKey = context.keys.lock(lockName);
    this.lock = new StreamLock(this.client, lockKey, context.keys.notify(lockKey), {
      ttlMs: this.options.lockTtlMs,
      refreshMs: this.options.lockRefreshMs,
    });
    this.reader = new BlockingReader(context.connections, label, this.options.readGraceMs);
    this.backoff = new Backoff({ initialMs: this.options.backoffInitialMs, maxMs: this.options.backoffMaxMs });
  }

  /** True while this instance holds the lock and works; false on standby or stopped. */
  get isActive(): boolean {
    return this.active;
  }

  /** True once `start()` was called and until `stop()` finished. */
  get isRunning(): boolean {
    return this.running !== undefined && this.stopped === undefined;
  }

  /** The offset this instance works from (meaningful while active). */
  get currentOffset(): string {
    return this.offset;
  }

  /** Starts the loop in the background; returns at once. Calling it twice has no effect. */
  start(): void {
    if (this.running || this.stopping) return;
    this.running = this.loop();
  }

  /**
   * Stops promptly: takes no new batch, interrupts a blocking read at once, lets a batch in
   * progress finish and commit, releases the lock (waking a standby) and closes the
   * connection it opened. Idempotent: every call returns the same promise.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.abort.abort();
      this.reader.interrupt();
      await this.running;
      await this.lock.release();
      await this.reader.close();
      this.active = false;
    })();
    return this.stopped;
  }

  /** Processes one batch read after `offset`; must commit through `commit()`. */
  protected abstract processBatch(entries: RawStreamEntry[]): Promise<void>;

  protected get isStopping(): boolean {
    return this.stopping;
  }

  protected get abortSignal(): AbortSignal {
    return this.abort.signal;
  }

  /** Throws if `stop()` was called: the batch in hand is left uncommitted. */
  protected throwIfStopping(): void {
    if (this.stopping) throw new StopRequested();
  }

  /** Sleeps unless stopped; ends early on `stop()`. */
  protected sleep(ms: number): Promise<void> {
    return abortableSleep(ms, this.abort.signal);
  }

  /** Makes sure the lock is still ours before work that must not run twice; throws when lost. */
  protected async ensureLock(): Promise<void> {
    if (this.lock.isHeld()) return;
    if (!(await this.lock.refresh())) throw new RedstreamLockLostError(`${this.label} lost its lock`);
  }

  /** Commits `offset` fenced by the lock: a stale owner gets RedstreamLockLostError instead. */
  protected async commit(offset: string, count: number): Promise<void> {
    const sentAt = performance.now();
    this.prefetchAfter(offset);
    const committed = await scripts.commitOffset.run(
      this.client,
      [this.lock.key, this.offsetKey],
      [this.lock.ownerId, offset, this.options.lockTtlMs],
    );
    if (committed !== 1) {
      this.lock.markLost();
      throw new RedstreamLockLostError(`${this.label} lost its lock before committing ${offset}; not committed`);
    }
    this.lock.confirmedAt(sentAt);
    this.advance(offset, count);
  }

  /** Records an offset that a fenced script of the subclass committed. */
  protected advance(offset: string, count: number): void {
    this.offset = offset;
    this.emit('committed', offset, count);
  }

  /** Runs each time this instance takes the lock, before its offset is loaded. */
  protected async onActivated(): Promise<void> {
    // Subclasses register themselves here.
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!this.lock.isHeld() && !(this.active && (await this.lock.refresh())) && !(await this.activate())) {
          continue;
        }
        if (this.stopping) break;
        const entries = await this.nextBatch();
        if (this.stopping) break;
        if (entries && entries.length > 0) await this.processBatch(entries);
        this.backoff.reset();
      } catch (error) {
        this.discardPrefetch();
        if (this.stopping || error instanceof StopRequested) break;
        if (error instanceof RedstreamLockLostError) {
          this.toStandby(error.message);
          continue;
        }
        const retryInMs = this.backoff.next();
        this.logger.error(
          `${this.label}: ${(error as Error).message ?? String(error)}; retrying in ${retryInMs} ms`,
          (error as Error).stack,
        );
        this.emit('failed', error as Error, retryInMs);
        await this.sleep(retryInMs);
      }
    }
  }

  private async activate(): Promise<boolean> {
    this.discardPrefetch();
    if (this.active) this.toStandby('the lock was lost');
    if (await this.lock.tryAcquire()) {
      try {
        // Registration first: a trimmer then either sees this consumer (and waits for its
        // offset) or trimmed before the offset is read, never in between.
        await this.onActivated();
        this.offset = (await this.client.get(this.offsetKey)) ?? '0-0';
      } catch (error) {
        // Without the lease the next round activates again instead of reading from an
        // offset that was never loaded, without a keep-alive.
        this.lock.markLost();
        throw error;
      }
      this.lock.startKeepAlive(
        () => this.lock.markLost(),
        (error) => this.logger.warn(`${this.label}: refreshing the lock failed: ${error.message}`),
      );
      this.active = true;
      this.logger.log(`${this.label}: active, reading after ${this.offset}`);
      this.emit('active', this.offset);
      return true;
    }
    // stop() may have come while the lock was asked for: interrupt() found no read to end.
    if (this.stopping) return false;
    await this.reader.watch(this.options.standbyPollMs, (client) =>
      this.lock.waitForRelease(client, this.options.standbyPollMs),
    );
    return false;
  }

  /**
   * Starts reading the batch after `offset` while its commit travels, which saves a round
   * trip per batch (measured in bench/). It is used only if the commit succeeds; the loop
   * reads nothing from it otherwise.
   */
  private prefetchAfter(offset: string): void {
    if (this.stopping) return;
    this.discardPrefetch();
    const prefetched = {
      offset,
      read: this.reader.read(this.streamKey, offset, this.options.batchSize, this.options.blockMs),
      settled: false,
    };
    prefetched.read.then(
      () => (prefetched.settled = true),
      () => (prefetched.settled = true),
    );
    this.prefetched = prefetched;
  }

  private nextBatch(): Promise<RawStreamEntry[] | null> {
    const prefetched = this.prefetched;
    if (prefetched?.offset === this.offset) {
      this.prefetched = undefined;
      return prefetched.read;
    }
    this.discardPrefetch();
    return this.reader.read(this.streamKey, this.offset, this.options.batchSize, this.options.blockMs);
  }

  /** Drops an unused read ahead; one still blocking would hold up the reader's connection. */
  private discardPrefetch(): void {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    if (prefetched && !prefetched.settled) this.reader.interrupt();
  }

  private toStandby(reason: string): void {
    this.lock.stopKeepAlive();
    this.lock.markLost();
    if (!this.active) return;
    this.active = false;
    this.logger.warn(`${this.label}: standing by (${reason})`);
    this.emit('standby', reason);
  }
}
