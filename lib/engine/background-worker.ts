import { EventEmitter } from 'node:events';
import { abortableSleep } from './abortable-sleep';
import { Backoff } from './backoff';
import { BlockingReader } from './blocking-reader';
import { RedstreamClosedError, RedstreamLockLostError } from './errors';
import { asError, describeFailure, FailureReporter } from './failure-reporter';
import { guardLogger } from './guarded-logger';
import { StallWatch, WorkerRecovery, WorkerStall } from './stall-watch';
import { withTimeout } from './with-timeout';
import { WORKER_DEFAULTS } from './worker-defaults';
import type { RedstreamLogFields, RedstreamLogger } from './interfaces/redstream-logger.interface';
import type { WorkerLease } from './leases/worker-lease.interface';
import type { RedisConnectionFactory } from './redis-connection';
import type { SharedBlockingReads } from './shared-blocking-reads';

/** The events every background worker emits; subclasses add their own (and `active`). */
export interface BackgroundWorkerEvents {
  /** This instance lost or could not keep its lease and waits as a hot standby. */
  standby: [reason: string];
  /** Something failed and will be retried after `retryInMs`. */
  failed: [error: Error, retryInMs: number];
  /**
   * The same batch (or the loop itself: Redis unreachable) has failed in a row for
   * `stalledAfterMs`; emitted once, `recovered` follows on the next success.
   */
  stalled: [stall: WorkerStall];
  /** A stalled worker succeeded again. */
  recovered: [recovery: WorkerRecovery];
}

/** What a {@link BackgroundWorker} is built from. */
export interface BackgroundWorkerSetup {
  /** How the worker is named in logs and errors, e.g. `Consumer products:indexer`. */
  label: string;
  logger: RedstreamLogger;
  /** The worker's context on every line it logs (its stream and name). */
  logFields?: RedstreamLogFields;
  /** Where the worker's blocking connection comes from. */
  connections: RedisConnectionFactory;
  /** First and largest retry delay, and the blocking reader's watchdog grace, in ms. */
  timing: { backoffInitialMs: number; backoffMaxMs: number; readGraceMs: number; stalledAfterMs?: number };
  /** Shares the worker's offset reads and standby waits with the other workers, when enabled. */
  sharedReads?: SharedBlockingReads;
  /** Builds the lease; it may wait for its turn on the worker's blocking reader. */
  lease: (reader: BlockingReader) => WorkerLease;
}

/** How long a stop waits for a lease call in flight to settle, so that a lease it took is released. */
const LEASE_SETTLE_MS = 250;

/** Thrown inside the loop to leave the work in hand unfinished because `stop()` was called. */
class StopRequested extends Error {}

/**
 * The loop every long-running engine worker shares: hold the lease (or stand by until it can
 * be had), run one `step()` after another, and retry failures after a capped backoff without
 * flooding the log. `start()` and `stop()` can alternate for the life of the object; what
 * differs between workers is the lease and the step.
 *
 * Starting and stopping: the last call wins. `start()` while a `stop()` is still in progress
 * lets that stop finish (the batch in flight commits, the lease is released) and then starts
 * again; `stop()` while starting stops. Concurrent `stop()` calls share one promise; after a
 * restart, `stop()` returns a new one.
 */
export abstract class BackgroundWorker<
  TEvents extends BackgroundWorkerEvents & Record<keyof TEvents, unknown[]> = BackgroundWorkerEvents,
> extends EventEmitter<TEvents> {
  readonly label: string;
  protected readonly logger: RedstreamLogger;
  protected readonly lease: WorkerLease;
  /** The worker's own blocking connection (reads and standby waits), under a watchdog. */
  protected readonly reader: BlockingReader;
  private readonly backoff: Backoff;
  private readonly failures: FailureReporter;
  private readonly stallWatch: StallWatch;
  private wanted: 'running' | 'stopped' = 'stopped';
  private stopRequested = false;
  private abort = new AbortController();
  private running?: Promise<void>;
  private shuttingDown = false;
  private stopped?: Promise<void>;
  private active = false;
  private retired = false;
  /** A lease acquire or confirm that a stop may have left in flight (see `shutdown`). */
  private pendingLeaseCall?: Promise<unknown>;
  /** How often each (event, message) of a throwing listener was seen, for `emit`. */
  private readonly listenerFailures = new Map<string, number>();

  protected constructor(setup: BackgroundWorkerSetup) {
    super();
    this.label = setup.label;
    // A logger that throws must not take the worker (or the process) down.
    this.logger = guardLogger(setup.logger, setup.logFields);
    this.reader = new BlockingReader(setup.connections, setup.label, setup.timing.readGraceMs, setup.sharedReads);
    this.lease = setup.lease(this.reader);
    this.backoff = new Backoff({ initialMs: setup.timing.backoffInitialMs, maxMs: setup.timing.backoffMaxMs });
    this.stallWatch = new StallWatch(
      setup.timing.stalledAfterMs ?? WORKER_DEFAULTS.stalledAfterMs,
      (stall) => {
        this.logger.error(
          `${this.label}: stalled: failing since ${stall.failingSince.toISOString()} ` +
            `(${stall.attempts} attempts): ${stall.error.message}`,
          { attempt: stall.attempts },
        );
        this.emitBase('stalled', stall);
      },
      (recovery) => {
        this.logger.log(`${this.label}: recovered after failing for ${recovery.failedForMs} ms`);
        this.emitBase('recovered', recovery);
      },
    );
    this.failures = this.failureReporter();
  }

  /**
   * True while the same batch (or the loop: Redis unreachable) has been failing for
   * `stalledAfterMs` or longer; false again on the next success, or when stopped.
   */
  get isStalled(): boolean {
    return this.stallWatch.isStalled;
  }

  /** While stalled: when the failures that stalled it began. */
  get stalledSince(): Date | undefined {
    return this.stallWatch.stalledSince;
  }

  /** True while this instance holds its lease and works; false on standby or stopped. */
  get isActive(): boolean {
    return this.active;
  }

  /**
   * True from `start()` until `stop()` is called; also true when `start()` came during a
   * stop, which restarts once that stop is done.
   */
  get isRunning(): boolean {
    return this.wanted === 'running';
  }

  /**
   * Starts the loop in the background; returns at once. No effect while running. After
   * `stop()` it starts again (the same object, its listeners kept), taking the lease anew
   * and, for a stream worker, reading after the offset committed in Redis.
   */
  start(): void {
    if (this.retired) {
      throw new RedstreamClosedError(`${this.label}: start() after its Redstream was closed; create a new Redstream`);
    }
    this.wanted = 'running';
    // A stop in progress starts the loop again once it is done.
    if (this.running || this.shuttingDown) return;
    this.launch();
  }

  /**
   * Stops promptly: takes no new work, interrupts a blocking read or a sleep at once, lets
   * the work in progress finish (a batch commits), releases the lease (waking a standby) and
   * closes the blocking connection. Calls while a stop is in progress, or after it, return
   * the same promise until the next `start()`.
   */
  stop(): Promise<void> {
    this.wanted = 'stopped';
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  /**
   * Stops for good: `Redstream.close()` calls it before closing the connections, after which
   * `start()` throws RedstreamClosedError instead of working on closed connections.
   * @internal
   */
  retire(): Promise<void> {
    this.retired = true;
    return this.stop();
  }

  /**
   * Emits as EventEmitter does, except that a listener which throws is logged (with the
   * event's name) instead of throwing into the worker: an observer must not stall or crash
   * the loop, nor escape it as an uncaught exception. The same throw from the same event is
   * logged with its stack the first time, then at 10, 100, 1000... times.
   */
  override emit<K>(eventName: K | keyof TEvents | string | symbol, ...args: unknown[]): boolean {
    try {
      return (super.emit as (name: unknown, ...rest: unknown[]) => boolean).call(this, eventName, ...args);
    } catch (error) {
      this.reportListenerFailure(String(eventName), error);
      return true;
    }
  }

  /** A FailureReporter for a run of failures of the worker (its handler's), feeding `isStalled`. */
  protected failureReporter(): FailureReporter {
    return new FailureReporter(this.logger, this.label, Date.now, this.stallWatch);
  }

  /** One unit of work while the lease is held: read and handle a batch, trim once... */
  protected abstract step(): Promise<void>;

  /**
   * Runs each time this instance takes the lease, before it counts as active: registers,
   * loads its offset. A throw gives the lease back and is retried like any failure.
   */
  protected async prepareActive(): Promise<void> {
    // Nothing by default.
  }

  /** Logs and emits that this instance is active now (with what the subclass knows). */
  protected abstract announceActive(): void;

  /** Drops what a failed, abandoned or stopped step left in flight (a read ahead). */
  protected abandonWork(): void {
    // Nothing by default.
  }

  protected get isStopping(): boolean {
    return this.stopRequested;
  }

  /** Aborts when `stop()` is called; a new signal for every start. */
  protected get abortSignal(): AbortSignal {
    return this.abort.signal;
  }

  /** Throws if `stop()` was called: the work in hand is left unfinished (a batch uncommitted). */
  protected throwIfStopping(): void {
    if (this.stopRequested) throw new StopRequested();
  }

  /**
   * Settles as `work` does, or rejects at once (the work in hand left unfinished) when `stop()`
   * is called: a command outside a batch (taking the lease, loading the offset, a trim) must
   * not hold up a stop while Redis does not answer. The command itself may still run.
   */
  protected untilStopped<T>(work: Promise<T>): Promise<T> {
    const signal = this.abort.signal;
    if (signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(new StopRequested());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new StopRequested());
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error as Error);
        },
      );
    });
  }

  /** Sleeps, ending early on `stop()`. */
  protected sleep(ms: number): Promise<void> {
    return abortableSleep(ms, this.abort.signal);
  }

  /** Makes sure the lease is still ours before work that must not run twice; throws when lost. */
  protected async ensureLease(): Promise<void> {
    if (this.lease.isHeld()) return;
    if (!(await this.lease.confirm()))
      throw new RedstreamLockLostError(this.lockLostMessage(`${this.label} lost its lock`));
  }

  private reportListenerFailure(eventName: string, error: unknown): void {
    const reason = describeFailure(error);
    const key = `${eventName}\n${reason}`;
    const count = (this.listenerFailures.get(key) ?? 0) + 1;
    if (this.listenerFailures.size >= 100) this.listenerFailures.clear();
    this.listenerFailures.set(key, count);
    const line = `${this.label}: a listener of the '${eventName}' event threw: ${reason}`;
    if (count === 1) this.logger.error(line, ...(error instanceof Error && error.stack ? [error.stack] : []));
    else if (Number.isInteger(Math.log10(count))) this.logger.error(`${line} (${count} times so far)`);
  }

  private leaseCall<T>(call: Promise<T>): Promise<T> {
    this.pendingLeaseCall = call;
    const forget = (): void => {
      if (this.pendingLeaseCall === call) this.pendingLeaseCall = undefined;
    };
    call.then(forget, forget);
    return call;
  }

  /** `message`, with why the lease was lost when the lease can tell (a blocked event loop). */
  protected lockLostMessage(message: string): string {
    const cause = this.lease.describeLoss?.();
    return cause ? `${message}; ${cause}` : message;
  }

  private launch(): void {
    this.stopped = undefined;
    this.stopRequested = false;
    this.abort = new AbortController();
    this.stallWatch.resume();
    this.running = this.loopUntilStopped();
  }

  /**
   * The loop, which never rejects: whatever escapes a round (a bug of ours, a subclass's
   * throw outside `step()`) is logged, backed off and the loop goes on; nothing a worker does
   * may leave the process as an unhandled rejection and take the other workers with it.
   */
  private async loopUntilStopped(): Promise<void> {
    while (!this.stopRequested) {
      try {
        await this.loop();
        return;
      } catch (error) {
        try {
          this.lease.markLost();
          this.active = false;
          const retryInMs = this.backoff.next();
          this.failures.failed(
            error,
            (attempt, reason) => `worker loop failed (attempt ${attempt}): ${reason}; restarting it in ${retryInMs} ms`,
          );
          await this.sleep(retryInMs);
        } catch {
          // Only a broken sleep could get here: go round, the stop flag ends it.
        }
      }
    }
  }

  private async shutdown(): Promise<void> {
    const running = this.running;
    this.shuttingDown = true;
    this.stopRequested = true;
    this.abort.abort();
    this.reader.interrupt();
    try {
      await running;
      // A lease taken while the stop came is released below, if Redis answers soon enough;
      // otherwise it expires after its ttl (a slower hand-over, never a wrong one).
      const pending = this.pendingLeaseCall;
      if (pending)
        await withTimeout(
          pending.catch(() => undefined),
          LEASE_SETTLE_MS,
          () => undefined,
        );
      this.pendingLeaseCall = undefined;
      this.abandonWork();
      // Also when never started: trimOnce() takes the trimmer's lock without the loop.
      await this.lease.release();
      await this.reader.close();
      this.active = false;
    } finally {
      this.stallWatch.pause();
      this.running = undefined;
      this.shuttingDown = false;
      if (this.wanted === 'running') this.launch();
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopRequested) {
      try {
        // The usual case (active, the local lease vouches) costs no promise.
        if ((!this.active || !this.lease.isHeld()) && !(await this.regainLease())) continue;
        if (this.stopRequested) break;
        await this.step();
        this.backoff.reset();
        this.failures.succeeded();
        if (this.lease.wantsHandOver?.() && !this.stopRequested) await this.handOver();
      } catch (error) {
        this.abandonWork();
        if (this.stopRequested || error instanceof StopRequested) break;
        if (error instanceof RedstreamLockLostError) {
          this.toStandby(error.message);
          continue;
        }
        const retryInMs = this.backoff.next();
        this.failures.failed(error, (attempt, reason) => `${reason} (attempt ${attempt}); retrying in ${retryInMs} ms`);
        this.emitBase('failed', asError(error), retryInMs);
        await this.sleep(retryInMs);
      }
    }
  }

  /** Not active, or the local lease ran out: true when (again) ours; else activates or waits for a turn. */
  private async regainLease(): Promise<boolean> {
    // A long pause while active: ask Redis before working on.
    if (this.active && !this.lease.isHeld() && (await this.untilStopped(this.leaseCall(this.lease.confirm()))))
      return true;
    return this.activate();
  }

  private async activate(): Promise<boolean> {
    this.abandonWork();
    if (this.active) this.toStandby('the lock was lost');
    if (!(await this.untilStopped(this.leaseCall(this.lease.acquire())))) {
      if (!this.stopRequested) await this.lease.waitForTurn(this.abort.signal);
      return false;
    }
    // stop() came while the lease was asked for: shutdown() releases it.
    if (this.stopRequested) return false;
    try {
      await this.untilStopped(this.prepareActive());
    } catch (error) {
      // Without the lease the next round activates again instead of working from state that
      // was never loaded, without a keep-alive.
      this.lease.markLost();
      throw error;
    }
    this.lease.keepAlive((error) => this.logger.warn(`${this.label}: refreshing the lock failed: ${error.message}`));
    this.active = true;
    this.announceActive();
    return true;
  }

  /** The lease asked to be handed over: the step's batch is committed, drop the read ahead and release. */
  private async handOver(): Promise<void> {
    this.abandonWork();
    const reason = (await this.lease.handOver?.()) ?? 'handed over';
    if (!this.active) return;
    this.active = false;
    this.logger.log(`${this.label}: standing by (${reason})`);
    this.emitBase('standby', reason);
  }

  private toStandby(reason: string): void {
    this.lease.markLost();
    if (!this.active) return;
    this.active = false;
    const cause = this.lease.describeLoss?.();
    const explained = cause && !reason.includes(cause) ? `${reason}: ${cause}` : reason;
    this.logger.warn(`${this.label}: standing by (${explained})`);
    this.emitBase('standby', explained);
  }

  // The subclass's event map includes the base events; TypeScript cannot see that through
  // the generic parameter.
  private emitBase<K extends keyof BackgroundWorkerEvents>(event: K, ...args: BackgroundWorkerEvents[K]): void {
    (this as EventEmitter).emit(event, ...args);
  }
}
