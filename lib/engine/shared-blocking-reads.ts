import { randomBytes } from 'node:crypto';
import { RedstreamReadStalledError } from './errors';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import type { BlockingReadsMode } from './interfaces/redstream-options.interface';
import type { RawStreamEntry } from './message-parser';
import type { RedisClient, RedisConnectionFactory } from './redis-connection';
import type { RedstreamKeys } from './redstream-keys';
import { isRedisReplyError } from './scripts/script-error';
import { compareStreamIds } from './stream-id';
import { withTimeout } from './with-timeout';

/** The values of the `blockingReads` option. */
export const BLOCKING_READS_MODES: readonly BlockingReadsMode[] = ['shared', 'per-worker'];

/** How long a wake key lives after its last wake-up; it is only ever needed while this process runs. */
const WAKE_KEY_TTL_MS = 10 * 60_000;

/** A wait the caller gives up on (`stop()`, a read ahead dropped): settles it at once. */
export type CancelWait = (reason: Error) => void;

/** What a caller of the multiplexers passes to be able to cancel its wait. */
export type OnCancel = (cancel: CancelWait) => void;

interface Waiter<T> {
  key: string;
  blockMs: number;
  graceMs: number;
  /** The wait's promise: settled once, through the multiplexer's `settle` or `fail`. */
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  /** Ends the wait as one that saw nothing after `blockMs`. */
  timer?: NodeJS.Timeout;
}

/**
 * The blocking reads of one {@link Redstream}'s workers on a small, fixed number of connections
 * instead of one per worker: offset readers (Consumers, Delayers) share one connection that
 * runs a single `XREAD BLOCK` over every stream waited for, standbys share another that runs a
 * single `BRPOP` over every notify list waited for. Group consumers keep a connection each
 * (XREADGROUP cannot span groups), and on Redis Cluster every worker keeps its own (a
 * multi-key command must stay in one slot): see `enabled`.
 *
 * A wait registered while the shared command blocks on other keys interrupts it by writing
 * to a private wake key included in the command (`<base>:wake:<random>`, a stream for XREAD
 * and a list for BRPOP): that needs only commands and keys the documented ACL line grants,
 * unlike CLIENT UNBLOCK. Each shared command is watched like a worker's own read was: when
 * it has not answered by its block time plus the grace, its connection is replaced and the
 * waits on it fail with RedstreamReadStalledError, which the workers retry as before.
 */
export class SharedBlockingReads {
  readonly streams: SharedStreamReads;
  readonly lists: SharedListWaits;
  private closed = false;

  constructor(
    private readonly connections: RedisConnectionFactory,
    keys: RedstreamKeys,
    logger: RedstreamLogger,
    readonly mode: BlockingReadsMode,
  ) {
    const wakeBase = `${keys.base}:wake:${randomBytes(8).toString('hex')}`;
    this.streams = new SharedStreamReads(connections, `${wakeBase}:xread`, logger);
    this.lists = new SharedListWaits(connections, `${wakeBase}:brpop`, logger);
  }

  /**
   * Whether workers share blocking connections now: asked for, not closed, and not on a
   * Cluster, where a multi-key XREAD or BRPOP must stay in one hash slot.
   */
  get enabled(): boolean {
    if (this.mode !== 'shared' || this.closed) return false;
    return (this.connections.client() as { isCluster?: boolean }).isCluster !== true;
  }

  /** Fails every wait and stops; the connections close with the factory's. */
  close(): void {
    this.closed = true;
    this.streams.close();
    this.lists.close();
  }
}

/** The connection, loop and watchdog the two multiplexers share. */
abstract class Multiplexer<T, W extends Waiter<T>> {
  protected readonly waiters = new Set<W>();
  private client?: RedisClient;
  /** A round (one command and the handing out of its reply) is in progress. */
  private busy = false;
  private closed = false;
  /** A wake-up was sent for the command in flight: one is enough to end it. */
  private wakeSent = false;
  /** The keys, with the id read after for streams, of the command blocking now. */
  protected blocking?: Map<string, string>;

  constructor(
    protected readonly connections: RedisConnectionFactory,
    protected readonly wakeKey: string,
    private readonly purpose: string,
    private readonly logger: RedstreamLogger,
  ) {}

  close(): void {
    this.closed = true;
    this.failAll([...this.waiters], new Error(`${this.purpose}: closed`));
    if (this.client) this.replace(this.client);
  }

  /** Registers `waiter`, interrupting the blocked command when it does not cover the waiter. */
  protected add(waiter: W, onCancel: OnCancel, timeoutMs: number): void {
    if (this.closed) {
      waiter.reject(new Error(`${this.purpose}: closed`));
      return;
    }
    waiter.timer = setTimeout(() => this.timedOut(waiter), timeoutMs);
    onCancel((reason) => this.fail(waiter, reason));
    this.waiters.add(waiter);
    if (!this.busy) this.nextRound();
    else if (this.blocking && !this.covers(waiter, this.blocking)) this.wake();
  }

  /** Resolves `waiter` as a wait that saw nothing. */
  protected abstract timedOut(waiter: W): void;

  /** Whether the command blocking now on `blocking` also ends when `waiter` has news. */
  protected abstract covers(waiter: W, blocking: Map<string, string>): boolean;

  /** One round: a command over the waiters, settling those it can. */
  protected abstract round(client: RedisClient): Promise<void>;

  /** Writes to the wake key, which ends the blocked command. */
  protected abstract sendWake(shared: RedisClient): Promise<unknown>;

  /** Runs `command` on the shared blocking connection, replaced when it outlives `limitMs`. */
  protected watched<R>(client: RedisClient, limitMs: number, command: Promise<R>): Promise<R> {
    return withTimeout(command, limitMs, () => {
      this.replace(client);
      throw new RedstreamReadStalledError(
        `A shared blocking read (${this.purpose}) did not return within ${limitMs} ms; reconnecting`,
      );
    });
  }

  /** Ends a wait still registered with `value`; a wait already ended is left as it is. */
  protected settle(waiter: W, value: T): void {
    if (!this.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    waiter.resolve(value);
  }

  protected fail(waiter: W, error: Error): void {
    if (!this.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    waiter.reject(error);
  }

  protected failAll(waiters: W[], error: Error): void {
    for (const waiter of waiters) this.fail(waiter, error);
  }

  /**
   * Starts a round when there are waits and none is in progress. Called from `add()`, the
   * round's command is written before `add()` returns: a worker that reads ahead on arrival
   * of a batch has Redis prepare the next one while it handles this one, as on a connection
   * of its own (a loop woken through a promise wrote it only after the batch was parsed).
   */
  private nextRound(): void {
    if (this.busy || this.closed || this.waiters.size === 0) return;
    this.busy = true;
    this.wakeSent = false;
    let round: Promise<void>;
    try {
      this.client ??= this.connections.createBlocking(this.purpose);
      round = this.round(this.client);
    } catch (error) {
      round = Promise.reject(error as Error);
    }
    round.then(
      () => this.roundEnded(),
      (error: Error) => {
        // Whatever broke the command (a lost connection, the watchdog) is the waits' to
        // retry with their workers' backoff, as with a connection of their own; those that
        // came during the command counted on it as well.
        if (!this.closed) this.failAll([...this.waiters], error);
        this.roundEnded();
      },
    );
  }

  private roundEnded(): void {
    this.blocking = undefined;
    this.busy = false;
    this.nextRound();
  }

  private wake(): void {
    if (this.wakeSent) return;
    this.wakeSent = true;
    this.sendWake(this.connections.client()).catch((error: Error) =>
      // Unwoken, the command ends at its block time and the next one includes the new wait.
      this.logger.debug?.(`${this.purpose}: waking the shared read failed: ${error.message}`),
    );
  }

  /** Drops `client` at once (no QUIT: it would wait behind a command still blocking). */
  private replace(client: RedisClient): void {
    if (this.client === client) this.client = undefined;
    this.connections.releaseNow(client);
  }
}

interface StreamWaiter extends Waiter<RawStreamEntry[] | null> {
  after: string;
  count: number;
  /** Not yet read since registered or woken: the next round reads it without blocking. */
  fresh: boolean;
}

/**
 * Offset readers' `XREAD BLOCK` on one connection. A round either reads, pipelined and
 * without blocking, the streams of the waits that are new or were woken (each with its own
 * COUNT, handing each its entries), or, when none is, blocks in one `XREAD COUNT <largest>
 * BLOCK` over every stream waited for (after the lowest id waited after) and the wake stream,
 * and hands each wait the entries after its own id, up to its own count.
 */
export class SharedStreamReads extends Multiplexer<RawStreamEntry[] | null, StreamWaiter> {
  /** The last wake-up seen on the wake stream. */
  private wakeId = '0-0';
  /**
   * Streams whose waits were just handed entries, with the last id handed: the next blocking
   * XREAD includes them, so that the worker's next wait (after that id, usually registered
   * while the command blocks) is covered and need not interrupt it. Only the round that
   * handed entries last counts for a stream: an id from an earlier round would have the
   * blocking XREAD return entries already handed out.
   */
  private lingering = new Map<string, { id: string; round: number }>();
  private rounds = 0;

  constructor(connections: RedisConnectionFactory, wakeKey: string, logger: RedstreamLogger) {
    super(connections, wakeKey, 'shared stream reads', logger);
  }

  /**
   * Up to `count` entries of `key` after `after`, waiting up to `blockMs` for the first;
   * null when none came.
   */
  read(
    key: string,
    after: string,
    count: number,
    timing: { blockMs: number; graceMs: number },
    onCancel: OnCancel,
  ): Promise<RawStreamEntry[] | null> {
    return new Promise((resolve, reject) => {
      const waiter: StreamWaiter = { key, after, count, ...timing, fresh: true, resolve, reject };
      this.add(waiter, onCancel, timing.blockMs);
    });
  }

  protected override timedOut(waiter: StreamWaiter): void {
    this.settle(waiter, null);
  }

  protected override covers(waiter: StreamWaiter, blocking: Map<string, string>): boolean {
    // The command blocks only while nothing follows its id: news after ours ends it too.
    const blockedAfter = blocking.get(waiter.key);
    if (blockedAfter === undefined || compareStreamIds(blockedAfter, waiter.after) > 0) return false;
    waiter.fresh = false;
    return true;
  }

  protected override async round(client: RedisClient): Promise<void> {
    this.rounds++;
    const waiters = [...this.waiters];
    const fresh = waiters.filter((waiter) => waiter.fresh);
    const waiting = waiters.filter((waiter) => !waiter.fresh);
    if (fresh.length > 0) return this.readNow(client, fresh, waiting);
    const after = this.lowestIds(waiting);
    for (const [key, { id }] of this.lingering) {
      const lowest = after.get(key);
      if (lowest === undefined || compareStreamIds(id, lowest) < 0) after.set(key, id);
    }
    this.lingering = new Map();
    const blockMs = Math.min(...waiting.map((waiter) => waiter.blockMs));
    const graceMs = Math.max(...waiting.map((waiter) => waiter.graceMs));
    const count = Math.max(...waiting.map((waiter) => waiter.count));
    after.set(this.wakeKey, this.wakeId);
    this.blocking = after;
    let reply: XreadReply;
    try {
      reply = await this.watched(
        client,
        blockMs + graceMs,
        client.xread(
          'COUNT',
          count,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...after.keys(),
          ...after.values(),
        ) as Promise<XreadReply>,
      );
    } catch (error) {
      if (!isRedisReplyError(error)) throw error;
      // One key refused (WRONGTYPE): reading each wait on its own names the one at fault.
      for (const waiter of waiters) waiter.fresh = true;
      return;
    }
    this.handOut(reply, count);
  }

  private handTo(waiter: StreamWaiter, entries: RawStreamEntry[]): void {
    const last = entries[entries.length - 1][0];
    const lingering = this.lingering.get(waiter.key);
    // Several waits on one stream in a round: the next XREAD must cover the one furthest behind.
    const behind = lingering?.round === this.rounds && compareStreamIds(lingering.id, last) <= 0;
    if (!behind) this.lingering.set(waiter.key, { id: last, round: this.rounds });
    this.settle(waiter, entries);
  }

  /** The lowest id waited after, per stream. */
  private lowestIds(waiters: StreamWaiter[]): Map<string, string> {
    const after = new Map<string, string>();
    for (const { key, after: id } of waiters) {
      const lowest = after.get(key);
      if (lowest === undefined || compareStreamIds(id, lowest) < 0) after.set(key, id);
    }
    return after;
  }

  /**
   * Hands each wait the entries of `reply` after its id, up to its own count, without another
   * round trip. A wait with none there is read next round if the reply may have stopped short
   * of its id (`count` entries came).
   */
  private handOut(reply: XreadReply, count: number): void {
    for (const [key, entries] of reply ?? []) {
      if (entries.length === 0) continue;
      if (key === this.wakeKey) {
        this.wakeId = entries[entries.length - 1][0];
        continue;
      }
      // No copy: a Set's iteration survives the deletes that settling does.
      for (const waiter of this.waiters) {
        if (waiter.key !== key || waiter.fresh) continue;
        // Usually the wait's own id was the one read after: every entry follows it.
        const after =
          compareStreamIds(entries[0][0], waiter.after) > 0
            ? entries
            : entries.filter(([id]) => compareStreamIds(id, waiter.after) > 0);
        if (after.length > 0) this.handTo(waiter, after.slice(0, waiter.count));
        else if (entries.length >= count) waiter.fresh = true;
      }
    }
  }

  protected override sendWake(shared: RedisClient): Promise<unknown> {
    return Promise.all([
      shared.xadd(this.wakeKey, 'MAXLEN', '1', '*', 'w', '1'),
      shared.pexpire(this.wakeKey, WAKE_KEY_TTL_MS),
    ]);
  }

  /**
   * Reads each fresh wait's stream without blocking, all at once; a wait that finds nothing
   * blocks next. The others' streams are looked at in the same go (one multi-key XREAD without
   * BLOCK): busy streams, whose waits are fresh round after round, must not keep an idle
   * stream's news waiting for the next blocking round.
   */
  private async readNow(client: RedisClient, fresh: StreamWaiter[], waiting: StreamWaiter[]): Promise<void> {
    const graceMs = Math.max(...fresh.map((waiter) => waiter.graceMs));
    const after = this.lowestIds(waiting);
    const reads = fresh.map(
      (waiter) => client.xread('COUNT', waiter.count, 'STREAMS', waiter.key, waiter.after) as Promise<XreadReply>,
    );
    const count = Math.max(0, ...waiting.map((waiter) => waiter.count));
    if (after.size > 0)
      reads.push(client.xread('COUNT', count, 'STREAMS', ...after.keys(), ...after.values()) as Promise<XreadReply>);
    const replies = await this.watched(client, graceMs, Promise.allSettled(reads));
    // A lost connection fails every read: the waits are failed together by the loop.
    const lost = replies.find(
      (reply): reply is PromiseRejectedResult => reply.status === 'rejected' && !isRedisReplyError(reply.reason),
    );
    if (lost) throw lost.reason;
    fresh.forEach((waiter, index) => {
      const reply = replies[index];
      if (reply.status === 'rejected') return this.fail(waiter, reply.reason as Error);
      const entries = reply.value?.[0]?.[1];
      if (entries && entries.length > 0) this.handTo(waiter, entries);
      else waiter.fresh = false;
    });
    const signal = replies[fresh.length];
    if (signal?.status === 'fulfilled') this.handOut(signal.value, count);
    // Refused (WRONGTYPE): read each on its own next round, which names the one at fault.
    else if (signal) for (const waiter of waiting) waiter.fresh = true;
  }
}

type XreadReply = [string, RawStreamEntry[]][] | null;

type ListWaiter = Waiter<void>;

/**
 * Standbys' `BRPOP` on their locks' notify lists, on one connection: one `BRPOP` over every
 * list waited for and the wake list. BRPOP pops from one list per call; the next round pops
 * the others at once. A wake-up token popped here ends the waits on that list, which then try
 * to take the lock, as after a BRPOP of their own.
 */
export class SharedListWaits extends Multiplexer<void, ListWaiter> {
  constructor(connections: RedisConnectionFactory, wakeKey: string, logger: RedstreamLogger) {
    super(connections, wakeKey, 'shared standby waits', logger);
  }

  /** Waits until a token is pushed onto `key` or `timeoutMs` passes. */
  wait(key: string, timing: { blockMs: number; graceMs: number }, onCancel: OnCancel): Promise<void> {
    return new Promise((resolve, reject) => {
      this.add({ key, ...timing, resolve, reject }, onCancel, timing.blockMs);
    });
  }

  protected override timedOut(waiter: ListWaiter): void {
    this.settle(waiter, undefined);
  }

  protected override covers(waiter: ListWaiter, blocking: Map<string, string>): boolean {
    return blocking.has(waiter.key);
  }

  protected override async round(client: RedisClient): Promise<void> {
    const waiters = [...this.waiters];
    const keys = new Map(waiters.map((waiter) => [waiter.key, '']));
    const blockMs = Math.max(10, Math.min(...waiters.map((waiter) => waiter.blockMs)));
    const graceMs = Math.max(...waiters.map((waiter) => waiter.graceMs));
    this.blocking = keys;
    const reply = await this.watched(
      client,
      blockMs + graceMs,
      client.brpop(...keys.keys(), this.wakeKey, blockMs / 1000),
    );
    if (!reply || reply[0] === this.wakeKey) return;
    for (const waiter of this.waiters) {
      if (waiter.key === reply[0]) this.settle(waiter, undefined);
    }
  }

  protected override sendWake(shared: RedisClient): Promise<unknown> {
    return Promise.all([shared.lpush(this.wakeKey, '1'), shared.pexpire(this.wakeKey, WAKE_KEY_TTL_MS)]);
  }
}
