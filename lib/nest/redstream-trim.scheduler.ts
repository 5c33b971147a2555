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

  constructor(
    /** The same Trimmer for the application's life: it resumes after a stop. */
    readonly trimmer: Trimmer,
    private readonly schedule: TrimSchedule,
    private readonly logger: RedstreamLogger,
  ) {}

  /** Starts trimming in the background; returns at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if ('intervalMs' in this.schedule) {
      this.trimmer.start();
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
    const job = this.job;
    this.job = undefined;
    const trimmer = this.trimmer;
    this.stopping = (async () => {
      job?.stop();
      await this.run;
      await trimmer.stop();
    })();
    return this.stopping;
  }

  private async trimOnce(): Promise<void> {
    try {
      await this.trimmer.trimOnce();
    } catch (error) {
      this.logger.error(`Trimmer ${this.trimmer.stream}: ${(error as Error).message}; trying again on schedule`);
    }
  }
}
