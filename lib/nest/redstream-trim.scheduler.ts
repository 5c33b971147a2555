import { Cron } from 'croner';
import type { RedstreamLogger, Trimmer } from '../engine';
import type { TrimSchedule } from './redstream-module-options.resolver';

/**
 * Runs one stream's Trimmer on the module's schedule: the engine's own loop for an interval,
 * croner for a cron expression (croner: small, dependency-free, maintained, ESM and CJS).
 * It can be stopped and started again.
 */
export class RedstreamTrimScheduler {
  private job?: Cron;
  private run?: Promise<void>;
  private running = false;
  private stopping?: Promise<void>;
  private current: Trimmer;
  private stoppedOnce = false;

  constructor(
    private readonly createTrimmer: () => Trimmer,
    private readonly schedule: TrimSchedule,
    private readonly logger: RedstreamLogger,
  ) {
    this.current = createTrimmer();
  }

  get trimmer(): Trimmer {
    return this.current;
  }

  /** Starts trimming in the background; returns at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    // TODO(restartable-engine): delete once Trimmer resumes after stop(): a stopped Trimmer
    // neither starts again nor releases its lock a second time, so a restart takes a new one.
    if (this.stoppedOnce) this.current = this.createTrimmer();
    if ('intervalMs' in this.schedule) {
      this.current.start();
      return;
    }
    // protect: a run still going when the next one is due is not overlapped but skipped.
    this.job = new Cron(this.schedule.cron, { protect: true }, () => {
      this.run = this.trimOnce();
      return this.run;
    });
  }

  /** Stops the schedule, waits for a run in progress and releases the trimmer's lock. */
  stop(): Promise<void> {
    if (!this.running) return this.stopping ?? Promise.resolve();
    this.running = false;
    this.stoppedOnce = true;
    const job = this.job;
    this.job = undefined;
    const trimmer = this.current;
    this.stopping = (async () => {
      job?.stop();
      await this.run;
      await trimmer.stop();
    })();
    return this.stopping;
  }

  private async trimOnce(): Promise<void> {
    try {
      await this.current.trimOnce();
    } catch (error) {
      this.logger.error(`Trimmer ${this.current.stream}: ${(error as Error).message}; trying again on schedule`);
    }
  }
}
