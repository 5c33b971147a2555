/** Why a worker counts as stalled: the `stalled` event's argument. */
export interface WorkerStall {
  /** The first of the failures in a row (of the same batch, or of the loop) that stalled it. */
  failingSince: Date;
  /** Failures in a row so far. */
  attempts: number;
  /** The latest failure. */
  error: Error;
}

/** The `recovered` event's argument: a stalled worker succeeded again. */
export interface WorkerRecovery {
  failingSince: Date;
  /** From the first failure to the success, in ms. */
  failedForMs: number;
}

/** A run of failures a {@link StallWatch} follows: a FailureReporter. */
interface FailureRun {
  /** Ends the run (as a success would). */
  succeeded(): void;
}

/**
 * Tells when a worker is stalled: one of its runs of failures (the same batch failing, or the
 * loop failing to read or commit) has lasted `stalledAfterMs`. Fed by the worker's
 * FailureReporters; calls `onStalled` once when that happens (on a timer, not waiting for the
 * next failure, which may be a backoff away) and `onRecovered` once when no run is that old.
 */
export class StallWatch {
  /** Start (epoch ms) and latest state of each run of failures in progress. */
  private readonly runs = new Map<FailureRun, { since: number; attempts: number; error: Error }>();
  private stalled = false;
  private paused = true;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly stalledAfterMs: number,
    private readonly onStalled: (stall: WorkerStall) => void,
    private readonly onRecovered: (recovery: WorkerRecovery) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The start of the oldest run of failures, while it makes the worker stalled. */
  get stalledSince(): Date | undefined {
    return this.stalled ? new Date(this.oldest()!.since) : undefined;
  }

  get isStalled(): boolean {
    return this.stalled;
  }

  /** A reporter's run of failures started at `since`, or goes on. */
  failing(run: FailureRun, since: number, attempts: number, error: Error): void {
    if (this.paused) return;
    this.runs.set(run, { since, attempts, error });
    this.evaluate();
  }

  /** A reporter's run of failures ended with a success. */
  ended(run: FailureRun): void {
    const state = this.runs.get(run);
    if (!state) return;
    this.runs.delete(run);
    if (this.stalled && !this.isOverdue(this.oldest())) {
      this.stalled = false;
      this.onRecovered({ failingSince: new Date(state.since), failedForMs: this.now() - state.since });
    }
    this.evaluate();
  }

  /** The worker started: failures count from now on. */
  resume(): void {
    this.paused = false;
  }

  /**
   * The worker stopped: what failed before counts no more (a restart starts afresh), the
   * runs end without `onRecovered`, and failures until the next `resume()` are ignored.
   */
  pause(): void {
    this.paused = true;
    this.stalled = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    const runs = [...this.runs.keys()];
    this.runs.clear();
    for (const run of runs) run.succeeded();
  }

  private oldest(): { since: number; attempts: number; error: Error } | undefined {
    let oldest: { since: number; attempts: number; error: Error } | undefined;
    for (const state of this.runs.values()) if (!oldest || state.since < oldest.since) oldest = state;
    return oldest;
  }

  private isOverdue(state: { since: number } | undefined): boolean {
    return state !== undefined && this.now() - state.since >= this.stalledAfterMs;
  }

  private evaluate(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const oldest = this.oldest();
    if (!oldest || this.stalled) return;
    if (this.isOverdue(oldest)) {
      this.stalled = true;
      this.onStalled({ failingSince: new Date(oldest.since), attempts: oldest.attempts, error: oldest.error });
      return;
    }
    this.timer = setTimeout(() => this.evaluate(), oldest.since + this.stalledAfterMs - this.now());
    // An observer's timer must not keep the process alive.
    this.timer.unref();
  }
}
