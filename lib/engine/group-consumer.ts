import { BatchSizeLimiter } from './batch-size-limiter';
import { BackgroundWorker, BackgroundWorkerEvents } from './background-worker';
import { Backoff } from './backoff';
import { deadLetterErrorMessage, DeadLetters } from './dead-letters';
import { RedstreamConfigError } from './errors';
import { asError, describeFailure, FailureReporter } from './failure-reporter';
import { GroupMembership, resolveGroupStartAt } from './group-membership';
import { GroupReader, PendingEntryState } from './group-reader';
import type { GroupConsumerHandler, GroupConsumerOptions } from './interfaces/group-consumer-options.interface';
import type { RedstreamMessage, RedstreamPayload } from './interfaces/redstream-message.interface';
import { AlwaysHeldLease } from './leases/always-held-lease';
import { parseStreamEntries, RawStreamEntry, RejectedEntry } from './message-parser';
import { nonNegativeMs, positiveInteger, positiveMs } from './option-validation';
import { callHandler } from './handler-call';
import { isolatePoison } from './poison-isolation';
import type { RedisClient } from './redis-connection';
import { RedstreamContext, resolveLogger } from './redstream-context';
import { idRange } from './redstream-log-record';
import { memberName, validateGroupName, validateStreamName } from './redstream-keys';
import { streamNameOf, streamParserOf } from './stream-definition';
import { resolveWorkerOptions, ResolvedWorkerOptions } from './worker-defaults';
import { NO_TELEMETRY, WorkerTelemetry } from './telemetry/redstream-telemetry';

/** The defaults of the group-specific {@link GroupConsumerOptions}. */
export const GROUP_CONSUMER_DEFAULTS = {
  claimIdleMs: 60_000,
  /** Capped at `claimIdleMs`. */
  claimIntervalMs: 10_000,
  maxDeliveries: 10,
  forgetIdleMs: 86_400_000,
  concurrency: 1,
} as const;

/**
 * Lone failures one isolation looks for at most; the rest of the batch stays pending for the
 * next retry. When nearly everything fails on its own (what the handler needs is down), this
 * keeps a retry at about log2(batch) + 2 × this many handler calls instead of 2 × batch.
 */
const MAX_POISONED_PER_ISOLATION = 10;

/** How often idle members are looked for at most, in ms (less often with a larger `forgetIdleMs`). */
const FORGET_CHECK_MAX_INTERVAL_MS = 60_000;

/** An entry moved to `<stream>.dead`. */
export interface DeadLetteredEntry {
  /** The entry's id in the stream. */
  id: string;
  /** Its id in `<stream>.dead`. */
  deadLetterId: string;
  /** How often Redis delivered it. */
  deliveries: number;
  /** The last error's message, as recorded in the dead letter. */
  error: string;
}

/** Events of a {@link GroupConsumer}, for observability and tests. */
export interface GroupConsumerEvents extends BackgroundWorkerEvents {
  /** The group exists (created if needed) and this instance reads as `member`. */
  active: [member: string];
  /** Entries were handled and acknowledged; `lastId` is the last of them. */
  acked: [count: number, lastId: string];
  /** Entries that could not be parsed were acknowledged without being handled (and logged). */
  rejected: [entries: { id: string; reason: string }[]];
  /** Entries that failed on their own `maxDeliveries` times were moved to `<stream>.dead`. */
  deadLettered: [entries: DeadLetteredEntry[]];
  /** Entries idle with other (or this) members for `claimIdleMs` were taken over. */
  claimed: [count: number];
}

/** The group-specific options of a {@link GroupConsumer} in effect, defaults filled in. */
export interface GroupConsumerSettings {
  startAt: 'begin' | 'end';
  claimIdleMs: number;
  claimIntervalMs: number;
  maxDeliveries: number;
  forgetIdleMs: number;
  concurrency: number;
  handlerTimeoutMs?: number;
}

function resolveGroupConsumerSettings<T extends object>(
  options: GroupConsumerOptions<T>,
  timing: ResolvedWorkerOptions,
  label: string,
): GroupConsumerSettings {
  const d = GROUP_CONSUMER_DEFAULTS;
  const claimIdleMs =
    options.claimIdleMs === undefined ? d.claimIdleMs : positiveInteger(options.claimIdleMs, `${label}: claimIdleMs`);
  const claimIntervalMs =
    options.claimIntervalMs === undefined
      ? Math.min(d.claimIntervalMs, claimIdleMs)
      : positiveInteger(options.claimIntervalMs, `${label}: claimIntervalMs`);
  const maxDeliveries =
    options.maxDeliveries === undefined
      ? d.maxDeliveries
      : nonNegativeInteger(options.maxDeliveries, `${label}: maxDeliveries`);
  const forgetIdleMs =
    options.forgetIdleMs === undefined
      ? d.forgetIdleMs
      : nonNegativeInteger(options.forgetIdleMs, `${label}: forgetIdleMs`);
  const concurrency =
    options.concurrency === undefined ? d.concurrency : positiveInteger(options.concurrency, `${label}: concurrency`);
  const handlerTimeoutMs =
    options.handlerTimeoutMs === undefined
      ? undefined
      : positiveMs(options.handlerTimeoutMs, `${label}: handlerTimeoutMs`);
  if (claimIdleMs <= timing.backoffMaxMs) {
    throw new RedstreamConfigError(
      `${label}: claimIdleMs (${claimIdleMs}) must exceed backoffMaxMs (${timing.backoffMaxMs}): ` +
        'entries waiting for a retry are idle too, and would be claimed instead of retried',
    );
  }
  if (handlerTimeoutMs !== undefined && claimIdleMs <= handlerTimeoutMs) {
    throw new RedstreamConfigError(
      `${label}: claimIdleMs (${claimIdleMs}) must exceed handlerTimeoutMs (${handlerTimeoutMs}): ` +
        'entries in a running handler are idle too, and would be claimed by another member',
    );
  }
  if (forgetIdleMs > 0 && forgetIdleMs <= timing.blockMs) {
    throw new RedstreamConfigError(
      `${label}: forgetIdleMs (${forgetIdleMs}) must exceed blockMs (${timing.blockMs}), or be 0 to keep every member`,
    );
  }
  return {
    startAt: resolveGroupStartAt(options.startAt, label),
    claimIdleMs,
    claimIntervalMs,
    maxDeliveries,
    forgetIdleMs,
    concurrency,
    handlerTimeoutMs,
  };
}

function nonNegativeInteger(value: unknown, what: string): number {
  nonNegativeMs(value, what);
  if (!Number.isInteger(value)) throw new RedstreamConfigError(`${what} must be a whole number, got ${String(value)}`);
  return value as number;
}

function idList(ids: readonly string[]): string {
  return ids.length > 10 ? `${ids.slice(0, 10).join(', ')}, ...` : ids.join(', ');
}

/**
 * One member of a Redis consumer group on a stream: every instance (in every process) is
 * active at once and Redis hands each entry to one of them. Reads with XREADGROUP and
 * acknowledges (XACK) a batch when the handler resolved: at least once, in stream order
 * within a batch, but not across members.
 *
 * - Pending first: on start, after a blocking read came back empty and when a retry is due,
 *   the member handles its own pending entries before new ones.
 * - A failing batch is bisected (the healthy entries are handled and acknowledged, in order);
 *   each entry that fails on its own stays pending and is retried after a backoff, and once
 *   Redis delivered it `maxDeliveries` times it goes to `<stream>.dead` (acknowledged in the
 *   same script). A bad entry never stalls the group.
 * - Entries idle for `claimIdleMs` with any member (crashed, stuck) are claimed with
 *   XAUTOCLAIM every `claimIntervalMs`; members gone for `forgetIdleMs` are removed.
 * - Entries whose `payload` cannot be parsed are logged, emitted as `rejected` and
 *   acknowledged, as an offset consumer skips them.
 * - `stop()` ends a blocked read at once, lets the batches in flight finish and leaves the
 *   group when this member holds no pending entries.
 */
export class GroupConsumer<TPayload extends object = RedstreamPayload> extends BackgroundWorker<GroupConsumerEvents> {
  readonly stream: string;
  readonly group: string;
  /** This instance's member name in the group: `<host>-<pid>-<random>`. */
  readonly member: string;
  private readonly settings: GroupConsumerSettings;
  /** Bounds every read (new, pending, claimed) by bytes as well as by count. */
  private readonly batchLimiter: BatchSizeLimiter;
  private readonly blockMs: number;
  private readonly client: RedisClient;
  private readonly membership: GroupMembership;
  private readonly groupReader: GroupReader;
  private readonly deadLetters: DeadLetters;
  private readonly handler: GroupConsumerHandler<TPayload>;
  private readonly parse?: (payload: unknown) => TPayload;
  private readonly retryBackoff: Backoff;
  private readonly handlerFailures: FailureReporter;
  private readonly telemetry: WorkerTelemetry;
  /** Batches not finished yet, their acknowledgement included. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Batches whose handler has not resolved yet: what `concurrency` counts. */
  private readonly handling = new Set<Promise<void>>();
  private readonly inFlightIds = new Set<string>();
  private backgroundError?: { error: unknown };
  /** Set while this member's own pending entries are read page by page. */
  private pendingPass?: { afterId: string };
  /** When entries that failed are to be read again as pending (epoch ms). */
  private retryPendingAt?: number;
  private nextClaimAt = 0;
  private nextForgetAt = 0;
  private joined = false;
  private stopBase?: Promise<void>;
  private stopDone?: Promise<void>;

  constructor(context: RedstreamContext, options: GroupConsumerOptions<TPayload>) {
    const stream = validateStreamName(streamNameOf(options.stream));
    const group = validateGroupName(options.group);
    const label = `GroupConsumer ${stream}:${group}`;
    // Validated before the worker is built, which creates the Redis connections.
    if (typeof options.handler !== 'function') throw new RedstreamConfigError(`${label}: handler must be a function`);
    const timing = resolveWorkerOptions(
      {
        batchSize: options.batchSize,
        maxBatchBytes: options.maxBatchBytes,
        blockMs: options.blockMs,
        backoffInitialMs: options.backoffInitialMs,
        backoffMaxMs: options.backoffMaxMs,
        readGraceMs: options.readGraceMs,
        stalledAfterMs: options.stalledAfterMs,
      },
      label,
    );
    const settings = resolveGroupConsumerSettings(options, timing, label);
    const logger = resolveLogger(options.logger, `${label}: logger`, context.logger);
    const member = memberName();
    super({
      label,
      logger,
      logFields: { worker: 'group-consumer', stream, group, member },
      connections: context.connections,
      timing,
      lease: () => new AlwaysHeldLease(),
    });
    this.stream = stream;
    this.group = group;
    this.member = member;
    this.settings = settings;
    this.batchLimiter = new BatchSizeLimiter(timing.batchSize, timing.maxBatchBytes);
    this.blockMs = timing.blockMs;
    this.handler = options.handler;
    this.parse = streamParserOf(options.stream);
    this.client = context.connections.client();
    const target = { streamKey: context.keys.stream(stream), group, member: this.member, startAt: settings.startAt };
    this.membership = new GroupMembership(this.client, target, this.logger, label);
    this.groupReader = new GroupReader(this.client, target, this.logger, label, this.membership);
    this.deadLetters = new DeadLetters(this.client, context.keys);
    this.retryBackoff = new Backoff({ initialMs: timing.backoffInitialMs, maxMs: timing.backoffMaxMs });
    this.handlerFailures = this.failureReporter();
    this.telemetry = (context.telemetry ?? NO_TELEMETRY).worker('group-consumer', stream, group, this);
  }

  /** The options in effect, defaults filled in. */
  get groupSettings(): Readonly<GroupConsumerSettings> {
    return this.settings;
  }

  /**
   * Stops as every worker does (see BackgroundWorker), then waits for the batches in flight
   * and leaves the group unless this member still holds pending entries (another member
   * claims those after `claimIdleMs`, or this one handles them after a restart).
   */
  override stop(): Promise<void> {
    const base = super.stop();
    if (this.stopBase !== base || !this.stopDone) {
      this.stopBase = base;
      this.stopDone = base.then(() => this.finishStop());
    }
    return this.stopDone;
  }

  protected override async prepareActive(): Promise<void> {
    await this.membership.ensureGroup();
    this.joined = true;
    this.batchLimiter.reset();
    this.pendingPass = { afterId: '0' };
    this.retryPendingAt = undefined;
    this.backgroundError = undefined;
    const now = Date.now();
    this.nextClaimAt = now;
    this.nextForgetAt = now;
  }

  protected override announceActive(): void {
    this.logger.log(`${this.label}: active as member ${this.member}`);
    this.emit('active', this.member);
  }

  protected override async step(): Promise<void> {
    this.rethrowBackgroundError();
    const now = Date.now();
    if (now >= this.nextClaimAt) return this.claimStep(now);
    if (this.settings.forgetIdleMs > 0 && now >= this.nextForgetAt) {
      this.nextForgetAt = now + Math.min(this.settings.forgetIdleMs, FORGET_CHECK_MAX_INTERVAL_MS);
      await this.membership.forgetIdleMembers(this.settings.forgetIdleMs);
    }
    if (this.retryPendingAt !== undefined && now >= this.retryPendingAt) {
      this.retryPendingAt = undefined;
      this.pendingPass ??= { afterId: '0' };
    }
    if (this.pendingPass) return this.pendingStep(this.pendingPass);
    return this.newEntriesStep(now);
  }

  /** Takes over entries idle for `claimIdleMs`, following the XAUTOCLAIM cursor. */
  private async claimStep(now: number): Promise<void> {
    const { entries, scanComplete } = await this.groupReader.claimIdle(
      this.settings.claimIdleMs,
      this.batchLimiter.nextCount(),
    );
    this.batchLimiter.record(entries);
    // A full page: more may be idle, claim on at the next step.
    this.nextClaimAt = scanComplete ? now + this.settings.claimIntervalMs : now;
    // A slow handler of this member's own (concurrency > 1) may have had its entries claimed back.
    const claimed = entries.filter(([id]) => !this.inFlightIds.has(id));
    if (claimed.length === 0) return;
    const claimedIds = claimed.map(([id]) => id);
    this.logger.log(
      `${this.label}: claimed ${claimed.length} entr${claimed.length === 1 ? 'y' : 'ies'} idle for ` +
        `${this.settings.claimIdleMs} ms or more: ${idList(claimedIds)}`,
      { ids: claimedIds.join(',') },
    );
    this.emit('claimed', claimed.length);
    const handleable = await this.deadLetterOverdelivered(claimed);
    if (handleable.length > 0) await this.dispatch(handleable);
  }

  /** Reads a page of this member's own pending entries; none may be in flight meanwhile. */
  private async pendingStep(pass: { afterId: string }): Promise<void> {
    if (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
      return;
    }
    const page = await this.groupReader.readPending(this.batchLimiter.nextCount(), pass.afterId);
    this.batchLimiter.record(page.entries);
    this.pendingPass = page.nextAfterId === undefined ? undefined : { afterId: page.nextAfterId };
    if (page.entries.length === 0) {
      // Nothing of this member's is left pending: a run of failures is over.
      if (pass.afterId === '0' && this.retryPendingAt === undefined) {
        this.retryBackoff.reset();
        this.handlerFailures.succeeded();
      }
      return;
    }
    await this.dispatch(page.entries);
  }

  private async newEntriesStep(now: number): Promise<void> {
    if (this.handling.size >= this.settings.concurrency) {
      await Promise.race(this.handling);
      return;
    }
    // Wake up for the next claim, retry or member check even when no entry arrives.
    const dueAt = Math.min(
      this.nextClaimAt,
      this.retryPendingAt ?? Infinity,
      this.settings.forgetIdleMs > 0 ? this.nextForgetAt : Infinity,
    );
    const blockMs = Math.max(1, Math.min(this.blockMs, dueAt - now));
    const count = this.batchLimiter.nextCount();
    const entries = await this.reader.watch(blockMs, (client) => this.groupReader.readNew(count, blockMs, client));
    this.batchLimiter.record(entries);
    if (entries.length === 0) {
      // Pending first (carmine-streams): a quiet moment is the time for the backlog.
      if (this.retryPendingAt === undefined) this.pendingPass = { afterId: '0' };
      return;
    }
    // Read, hence pending with this member: handled even when stop() came meanwhile.
    await this.dispatch(entries);
  }

  /** Starts a batch; waits while `concurrency` batches are in flight. */
  private async dispatch(entries: RawStreamEntry[]): Promise<void> {
    const ids = entries.map(([id]) => id);
    for (const id of ids) this.inFlightIds.add(id);
    let resolveHandled!: () => void;
    const handled = new Promise<void>((resolve) => (resolveHandled = resolve));
    const markHandled = (): void => {
      this.handling.delete(handled);
      resolveHandled();
    };
    this.handling.add(handled);
    // The next read starts once the handler resolved, while the acknowledgement travels.
    const work: Promise<void> = this.telemetry
      .processBatch(entries, () => this.processBatch(entries, markHandled))
      .catch((error: unknown) => {
        // The unacknowledged entries are pending with this member: read them again later.
        this.scheduleRetry();
        this.backgroundError ??= { error };
      })
      .finally(() => {
        markHandled();
        this.inFlight.delete(work);
        for (const id of ids) this.inFlightIds.delete(id);
      });
    this.inFlight.add(work);
    if (this.handling.size >= this.settings.concurrency) await Promise.race(this.handling);
    this.rethrowBackgroundError();
  }

  private rethrowBackgroundError(): void {
    const failure = this.backgroundError;
    if (!failure) return;
    this.backgroundError = undefined;
    throw failure.error;
  }

  /** Handles and acknowledges a batch; `handled` is called once the handler is done with it. */
  private async processBatch(entries: RawStreamEntry[], handled: () => void): Promise<void> {
    const { messages, rejected } = parseStreamEntries<TPayload>(this.stream, entries, this.parse);
    if (rejected.length > 0) await this.passOver(rejected);
    if (messages.length === 0) return;
    try {
      await this.callHandler(messages);
    } catch (error) {
      await this.recover(messages, error);
      return;
    }
    handled();
    await this.acknowledge(messages);
  }

  /**
   * Acknowledges entries that cannot become messages; those that failed the stream's `parse`
   * go to `<stream>.dead` instead (acknowledged in the same script) unless `maxDeliveries` is 0.
   */
  private async passOver(rejected: RejectedEntry[]): Promise<void> {
    const deadLetter = (entry: RejectedEntry): boolean =>
      this.settings.maxDeliveries > 0 && entry.validationError !== undefined;
    for (const entry of rejected) {
      const fate = deadLetter(entry)
        ? `moving entry ${entry.id} to ${this.stream}.dead`
        : `acknowledging entry ${entry.id}`;
      this.logger.warn(`${this.label}: ${fate} without handling it: ${entry.reason}`, { ids: entry.id });
    }
    const acked = rejected.filter((entry) => !deadLetter(entry));
    if (acked.length > 0) await this.groupReader.ack(acked.map(({ id }) => id));
    this.telemetry.rejected(rejected.length);
    this.emit('rejected', rejected);
    const invalid = rejected.filter(deadLetter);
    if (invalid.length === 0) return;
    const states = await this.groupReader.pendingState(invalid.map(({ id }) => id));
    const deadLettered = await this.writeDeadLetters(
      invalid.map(({ id, validationError }) => ({
        id,
        error: validationError,
        deliveries: states.get(id)?.deliveries ?? 1,
      })),
      'whose payload failed validation',
    );
    if (deadLettered.length > 0) this.emit('deadLettered', deadLettered);
  }

  private async acknowledge(messages: readonly RedstreamMessage<TPayload>[]): Promise<void> {
    await this.groupReader.ack(messages.map(({ id }) => id));
    this.emit('acked', messages.length, messages[messages.length - 1].id);
  }

  /**
   * The batch failed: bisect it so that the healthy entries are handled and acknowledged,
   * dead-letter the lone failures delivered `maxDeliveries` times, and leave the others
   * pending for a retry after the backoff. Logs one line.
   */
  private async recover(messages: RedstreamMessage<TPayload>[], error: unknown): Promise<void> {
    const redisFailure = new AbortController();
    let ackError: { error: unknown } | undefined;
    const isolation = await isolatePoison(
      messages,
      async (part) => {
        await this.callHandler([...part]);
        try {
          await this.acknowledge(part);
        } catch (failure) {
          // Redis, not the entries: stop isolating rather than blame them.
          ackError = { error: failure };
          redisFailure.abort();
          throw failure;
        }
      },
      {
        batchFailure: { error },
        signal: AbortSignal.any([this.abortSignal, redisFailure.signal]),
        maxPoisoned: MAX_POISONED_PER_ISOLATION,
      },
    );
    if (ackError) throw ackError.error;

    const states = await this.groupReader.pendingState(isolation.poisoned.map((p) => p.entry.id));
    const deliveries = Math.max(0, ...[...states.values()].map((state) => state.deliveries));
    const deadLettered = await this.deadLetterExhausted(isolation.poisoned, states);
    const left = isolation.poisoned.length - deadLettered.length + isolation.unfinished.length;
    const retryInMs = left > 0 && !this.isStopping ? this.scheduleRetry() : undefined;
    const lone = isolation.poisoned.map((p) => p.entry.id);
    this.handlerFailures.failed(
      error,
      (attempt, reason) => {
        const parts = [
          `handler failed on ${messages.length} message${messages.length === 1 ? '' : 's'} ${idRange(messages)} ` +
            `(attempt ${attempt}${deliveries ? `, delivery ${deliveries}` : ''}): ${reason}`,
          `${lone.length} fail${lone.length === 1 ? 's' : ''} on ${lone.length === 1 ? 'its' : 'their'} own` +
            (lone.length > 0 ? ` (${idList(lone)})` : '') +
            `, found in ${isolation.calls} more handler calls`,
        ];
        if (deadLettered.length > 0) parts.push(`${deadLettered.length} moved to ${this.stream}.dead`);
        if (isolation.stoppedBecause === 'aborted') parts.push('isolation interrupted by stop()');
        if (left > 0) {
          parts.push(`${left} left pending` + (retryInMs === undefined ? '' : `, retried in ${retryInMs} ms`));
        }
        return parts.join('; ');
      },
      { ids: idRange(messages) },
    );
    this.emit('failed', asError(error), retryInMs ?? 0);
    if (deadLettered.length > 0) this.emit('deadLettered', deadLettered);
  }

  /** Moves the lone failures Redis delivered `maxDeliveries` times to `<stream>.dead`. */
  private async deadLetterExhausted(
    poisoned: readonly { entry: RedstreamMessage<TPayload>; error: unknown }[],
    states: ReadonlyMap<string, PendingEntryState>,
  ): Promise<DeadLetteredEntry[]> {
    const { maxDeliveries } = this.settings;
    if (maxDeliveries === 0 || poisoned.length === 0) return [];
    const candidates = poisoned
      .map(({ entry, error }) => ({ id: entry.id, error, deliveries: states.get(entry.id)?.deliveries ?? 0 }))
      .filter(({ deliveries }) => deliveries >= maxDeliveries);
    return this.writeDeadLetters(candidates);
  }

  /**
   * Claimed entries delivered more than `maxDeliveries` times were never acknowledged nor
   * failed on their own: their handler crashed or stalled each process that tried them. Moves
   * them to `<stream>.dead` instead of trying once more; returns the others.
   */
  private async deadLetterOverdelivered(entries: RawStreamEntry[]): Promise<RawStreamEntry[]> {
    const { maxDeliveries } = this.settings;
    if (maxDeliveries === 0) return entries;
    const states = await this.groupReader.pendingState(entries.map(([id]) => id));
    const overdelivered = entries
      .map(([id]) => ({ id, deliveries: states.get(id)?.deliveries ?? 0 }))
      .filter(({ deliveries }) => deliveries > maxDeliveries)
      .map(({ id, deliveries }) => ({
        id,
        deliveries,
        error: new Error(
          `delivered ${deliveries} times without being acknowledged or failing: its handler may crash or stall the process`,
        ),
      }));
    if (overdelivered.length === 0) return entries;
    await this.writeDeadLetters(overdelivered);
    const gone = new Set(overdelivered.map(({ id }) => id));
    return entries.filter(([id]) => !gone.has(id));
  }

  private async writeDeadLetters(
    candidates: readonly { id: string; error: unknown; deliveries: number }[],
    why = `after ${this.settings.maxDeliveries} deliveries`,
  ): Promise<DeadLetteredEntry[]> {
    const written: DeadLetteredEntry[] = [];
    for (const { id, error, deliveries } of candidates) {
      const result = await this.deadLetters.write(
        this.stream,
        id,
        { kind: 'group', group: this.group, member: this.member },
        { error },
      );
      // 'not-owner': claimed by another member meanwhile; 'deleted': gone from the stream (acked).
      if (result.status === 'written') {
        written.push({ id, deadLetterId: result.deadLetterId, deliveries, error: deadLetterErrorMessage(error) });
      }
    }
    this.telemetry.deadLettered(written.length);
    if (written.length > 0) {
      this.logger.warn(
        `${this.label}: moved ${written.length} entr${written.length === 1 ? 'y' : 'ies'} ${why} to ${this.stream}.dead: ` +
          written.map((entry) => `${entry.id} (${entry.error})`).join(', '),
        { ids: written.map((entry) => entry.id).join(',') },
      );
    }
    return written;
  }

  /** Schedules reading this member's pending entries again after the retry backoff; returns the delay. */
  private scheduleRetry(): number {
    const retryInMs = this.retryBackoff.next();
    const at = Date.now() + retryInMs;
    this.retryPendingAt = Math.min(this.retryPendingAt ?? Infinity, at);
    return retryInMs;
  }

  private callHandler(messages: RedstreamMessage<TPayload>[]): Promise<unknown> {
    return callHandler(this.handler, messages, this.settings.handlerTimeoutMs, this.telemetry);
  }

  private async finishStop(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    if (!this.joined) return;
    try {
      await this.membership.leave();
    } catch (error) {
      this.logger.warn(`${this.label}: could not leave the group on stop: ${describeFailure(error)}`);
    }
  }
}
