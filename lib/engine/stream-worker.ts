import { performance } from 'node:perf_hooks';
import { abortableSleep } from './abortable-sleep';
import { BackgroundWorker, BackgroundWorkerEvents } from './background-worker';
import { BatchSizeLimiter } from './batch-size-limiter';
import { RedstreamLockLostError, RedstreamOffsetError } from './errors';
import type { RedstreamLogFields } from './interfaces/redstream-logger.interface';
import type { ReadingWorkerOptions, ShardGroupOption } from './interfaces/worker-options.interface';
import { BalancedShardLease } from './leases/balanced-shard-lease';
import type { ShardGroupWorkerKind } from './shard-group-membership';
import { createStreamLock, singleOwnerSetup, SingleOwnerLease } from './leases/single-owner-lease';
import { validateShardGroupName } from './redstream-keys';
import type { RawStreamEntry } from './message-parser';
import type { RedisClient } from './redis-connection';
import { RedstreamContext, resolveLogger } from './redstream-context';
import { scripts } from './scripts';
import { ForeignDeletionDetector, SkippedRange } from './foreign-deletion-detector';
import { compareStreamIds, isStreamId } from './stream-id';
import type { StreamLock } from './stream-lock';
import { readStreamPosition, StreamPosition } from './stream-position';
import { resolveWorkerOptions, ResolvedWorkerOptions } from './worker-defaults';

/** Events of a Consumer or Delayer, for observability and tests. */
export interface StreamWorkerEvents extends BackgroundWorkerEvents {
  /** This instance took the lock and works now, starting after `offset`. */
  active: [offset: string];
  /** An offset was committed after a batch was handled. */
  committed: [offset: string, count: number];
  /** Entries that could not be parsed were skipped. */
  rejected: [entries: { id: string; reason: string }[]];
  /** A Consumer with `deadLetter` moved entries that fail on their own to `<stream>.dead`. */
  deadLettered: [entries: { id: string; deadLetterId: string; error: string }[]];
  /**
   * Entries after the committed offset were deleted (XTRIM, XDEL) by someone else before this
   * worker read them: they are skipped, never handled (Redis 7 only: older servers cannot tell).
   */
  skipped: [ranges: SkippedRange[]];
}

/** A read started ahead while the previous batch's commit was on its way (see `commit`). */
interface ReadAhead {
  offset: string;
  read: Promise<RawStreamEntry[] | null>;
  settled: boolean;
}

/**
 * The offset reader Consumer and Delayer share, on the {@link BackgroundWorker} loop with a
 * {@link SingleOwnerLease}: win the (stream, name) lock or wait as a hot standby, read batches
 * after the committed offset with a watched blocking XREAD, process them, and commit fenced
 * by the lock.
 */
export abstract class StreamWorker extends BackgroundWorker<StreamWorkerEvents> {
  protected readonly options: ResolvedWorkerOptions;
  protected readonly client: RedisClient;
  /** The lock behind the lease: its key and owner id fence every commit. */
  protected readonly lock: StreamLock;
  protected readonly streamKey: string;
  protected readonly offsetKey: string;
  protected offset = '0-0';
  private prefetched?: ReadAhead;
  /** Bounds each read by `maxBatchBytes` as well as `batchSize`. */
  private readonly batchLimiter: BatchSizeLimiter;
  /** False for a worker whose stream others delete from by design (the Delayer's delay stream). */
  protected reportsForeignDeletions = true;
  /**
   * True for a worker that commits every batch it reads (the Consumer): the read after a
   * batch starts as soon as the batch arrives, so Redis prepares it while this process
   * parses and handles the batch. A worker that may leave its offset where it was (the
   * Delayer, waiting for due messages) reads ahead only once it commits.
   */
  protected readsAheadOnArrival = false;
  private readonly deletions: ForeignDeletionDetector;

  protected constructor(
    protected readonly context: RedstreamContext,
    /** The stream read: the user's stream, or `<stream>.delay` for the Delayer. */
    readonly readStream: string,
    /** The consumer name (`delayer` for the Delayer). */
    readonly name: string,
    lockName: string,
    options: ReadingWorkerOptions & ShardGroupOption,
    label: string,
    /** The worker's context on each of its log lines; `worker` is also its kind in a shard group. */
    logFields: RedstreamLogFields & { worker: ShardGroupWorkerKind },
  ) {
    const resolved = resolveWorkerOptions(options, label);
    const logger = resolveLogger(options.logger, `${label}: logger`, context.logger);
    const client = context.connections.client();
    const lock = createStreamLock(context, lockName, resolved);
    const setup = singleOwnerSetup(context, label, logger, lock, resolved, logFields);
    const group = options.shardGroup === undefined || options.shardGroup === false ? undefined : options.shardGroup;
    if (group !== undefined && context.shardGroups) {
      const membership = context.shardGroups.membership({
        group: validateShardGroupName(group),
        kind: logFields.worker,
        timing: {
          ttlMs: resolved.lockTtlMs,
          periodMs: Math.min(resolved.standbyPollMs, resolved.lockRefreshMs),
          balanceDelayMs: resolved.shardBalanceDelayMs,
        },
      });
      const single = setup.lease;
      setup.lease = (reader) =>
        new BalancedShardLease(single(reader) as SingleOwnerLease, membership, resolved.standbyPollMs);
    }
    super(setup);
    this.options = resolved;
    this.client = client;
    this.lock = lock;
    this.streamKey = context.keys.stream(readStream);
    this.offsetKey = context.keys.offset(readStream, name);
    this.batchLimiter = new BatchSizeLimiter(resolved.batchSize, resolved.maxBatchBytes);
    this.deletions = new ForeignDeletionDetector(
      () => readStreamPosition(this.client, this.streamKey),
      (range, firstLeft) => this.reportSkipped(range, firstLeft),
    );
  }

  /**
   * Who holds this worker's lock in Redis now: `'self'`, `'other'` (another instance, alive
   * within the lock's ttl: this one is its hot standby) or `'none'` (free, or expired). One
   * GET, for health checks; the loop itself never asks.
   */
  async lockHolder(): Promise<'self' | 'other' | 'none'> {
    const owner = await this.client.get(this.lock.key);
    if (owner === null) return 'none';
    return owner === this.lock.ownerId ? 'self' : 'other';
  }

  /** The offset this instance works from (meaningful while active). */
  get currentOffset(): string {
    return this.offset;
  }

  /** Processes one batch read after `offset`; must commit through `commit()`. */
  protected abstract processBatch(entries: RawStreamEntry[]): Promise<void>;

  /** Commits `offset` fenced by the lock: a stale owner gets RedstreamLockLostError instead. */
  protected async commit(offset: string, count: number): Promise<void> {
    const sentAt = performance.now();
    const reconnects = this.context.connections.reconnectCount(this.client);
    if (this.prefetched?.offset !== offset) this.prefetchAfter(offset);
    const committed = await scripts.commitOffset.run(
      this.client,
      [this.lock.key, this.offsetKey],
      [this.lock.ownerId, offset, this.options.lockTtlMs],
    );
    if (committed !== 1) {
      this.lock.markLost();
      throw new RedstreamLockLostError(
        this.refusedWriteMessage(
          `${this.label} lost its lock before committing ${offset}`,
          reconnects,
          'not committed',
          'it may not have been committed, or a first copy may have been',
        ),
      );
    }
    this.lock.confirmedAt(sentAt);
    this.advance(offset, count);
  }

  /**
   * The message for a fenced write the lock refused: `what`, then `outcome` (`not committed`),
   * or `uncertain` when the connection reconnected since `reconnectsBefore`: ioredis re-sends
   * unanswered commands, and a first copy may have been applied while the lock was still ours.
   * Ends with why the lock was lost when the lease can tell (a blocked event loop).
   */
  protected refusedWriteMessage(what: string, reconnectsBefore: number, outcome: string, uncertain: string): string {
    const reconnected = this.context.connections.reconnectCount(this.client) !== reconnectsBefore;
    return this.lockLostMessage(
      `${what}; ${reconnected ? `a reconnect happened meanwhile (ioredis re-sends unanswered commands): ${uncertain}` : outcome}`,
    );
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

  protected override async prepareActive(): Promise<void> {
    // Registration first: a trimmer then either sees this consumer (and waits for its
    // offset) or trimmed before the offset is read, never in between.
    await this.onActivated();
    this.batchLimiter.reset();
    const committed = await this.client.get(this.offsetKey);
    const position = await this.validateOffset(committed);
    this.offset = committed ?? '0-0';
    if (this.reportsForeignDeletions) this.deletions.activated(this.offset, committed !== null, position);
  }

  /**
   * Refuses to work from an offset that is not a stream id, or that lies beyond the stream's
   * last generated id (everything added until the stream caught up would be skipped): the
   * worker stays stalled, retried and logged with backoff, until the key is fixed.
   */
  private async validateOffset(committed: string | null): Promise<StreamPosition | null> {
    const key = this.offsetKey;
    const fix = `SET it to the id of the last entry handled, or DEL it to read the stream from its beginning`;
    if (committed !== null && !isStreamId(committed)) {
      throw new RedstreamOffsetError(
        `${this.label}: the committed offset in ${key} is ${JSON.stringify(committed)}, not a stream id ` +
          `(<ms>-<seq>); not reading until it is fixed: ${fix}`,
        key,
        committed,
      );
    }
    const position = await readStreamPosition(this.client, this.streamKey);
    if (committed !== null && position && compareStreamIds(committed, position.lastGeneratedId) > 0) {
      throw new RedstreamOffsetError(
        `${this.label}: the committed offset in ${key} is ${committed}, beyond the last id the stream ever ` +
          `generated (${position.lastGeneratedId}): entries added until the stream got there would be skipped; ` +
          `not reading until it is fixed: ${fix} (${position.lastGeneratedId} if everything was handled)`,
        key,
        committed,
      );
    }
    return position;
  }

  private reportSkipped(range: SkippedRange, firstLeft: string | undefined): void {
    this.logger.warn(
      `${this.label}: entries after the committed offset ${range.from} and before ${range.to} were deleted ` +
        `by someone else (XTRIM, XDEL) before they were read: ${range.estimatedCount} entries skipped, never handled ` +
        `(the first entry left is ${firstLeft ?? 'none: the stream is empty'})`,
      { ids: `${range.from}..${range.to}` },
    );
    this.emit('skipped', [range]);
  }

  protected override announceActive(): void {
    this.logger.log(`${this.label}: active, reading after ${this.offset}`);
    this.emit('active', this.offset);
  }

  protected override async step(): Promise<void> {
    const entries = await this.unlessHandingOver(this.nextBatch());
    if (this.isStopping || entries === null || entries.length === 0) return;
    // Used only once this batch is committed; discarded (interrupted) if it is not.
    if (this.readsAheadOnArrival) this.prefetchAfter(entries[entries.length - 1][0]);
    if (this.reportsForeignDeletions) await this.deletions.beforeBatch(this.offset, entries[0][0]);
    await this.processBatch(entries);
    if (this.offset === entries[entries.length - 1][0]) this.deletions.afterBatch(entries.length);
  }

  /**
   * The read, or null as soon as the lease asks to be handed over while the read still waits
   * for entries (an idle stream): the read is then dropped like an unused read ahead.
   */
  private unlessHandingOver(read: Promise<RawStreamEntry[] | null>): Promise<RawStreamEntry[] | null> {
    // Not async: without a lease that hands over (no shard group), the read itself, no wrapper per batch.
    return this.lease.onHandOverRequested ? this.raceHandOver(read) : read;
  }

  private async raceHandOver(read: Promise<RawStreamEntry[] | null>): Promise<RawStreamEntry[] | null> {
    let unsubscribe: () => void = () => undefined;
    const requested = new Promise<undefined>((resolve) => {
      unsubscribe = this.lease.onHandOverRequested?.(() => resolve(undefined)) ?? unsubscribe;
    });
    let outcome: { entries: RawStreamEntry[] | null } | undefined;
    try {
      outcome = await Promise.race([read.then((entries) => ({ entries })), requested]);
    } finally {
      unsubscribe();
    }
    if (outcome) return outcome.entries;
    const dropped: ReadAhead = { offset: this.offset, read, settled: false };
    read.then(
      () => (dropped.settled = true),
      () => (dropped.settled = true),
    );
    this.prefetched = dropped;
    return null;
  }

  /**
   * Sleeps `ms`, ending early on `stop()` or as soon as the lease asks to be handed over: a
   * worker waiting with nothing to do (the Delayer, until its next message is due) must not
   * hold a shard another instance should take, as an idle read does not.
   */
  protected async sleepUnlessHandingOver(ms: number): Promise<void> {
    if (!this.lease.onHandOverRequested) return this.sleep(ms);
    const woken = new AbortController();
    const wake = (): void => woken.abort();
    const stopping = this.abortSignal;
    stopping.addEventListener('abort', wake, { once: true });
    const unsubscribe = this.lease.onHandOverRequested(wake);
    try {
      if (!stopping.aborted) await abortableSleep(ms, woken.signal);
    } finally {
      unsubscribe();
      stopping.removeEventListener('abort', wake);
    }
  }

  /** Drops an unused read ahead; one still blocking would hold up the reader's connection. */
  protected override abandonWork(): void {
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    if (prefetched && !prefetched.settled) this.reader.interrupt();
  }

  /**
   * Starts reading the batch after `offset` while its commit travels (or, with
   * `readsAheadOnArrival`, while the batch before it is handled), which saves a round trip
   * per batch and overlaps Redis's work with ours (measured in bench/). It is used only if
   * `offset` gets committed; the loop reads nothing from it otherwise.
   */
  private prefetchAfter(offset: string): void {
    if (this.isStopping) return;
    this.abandonWork();
    const prefetched: ReadAhead = { offset, read: this.readAfter(offset), settled: false };
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
    this.abandonWork();
    return this.readAfter(this.offset);
  }

  /**
   * XREAD BLOCK blockMs after `offset` on the watched connection, at most `batchSize` entries
   * and about `maxBatchBytes`; null when nothing arrived.
   */
  private async readAfter(offset: string): Promise<RawStreamEntry[] | null> {
    const { blockMs } = this.options;
    const count = this.batchLimiter.nextCount();
    const entries = await this.reader.readAfter(this.streamKey, offset, count, blockMs);
    this.batchLimiter.record(entries);
    return entries;
  }
}
