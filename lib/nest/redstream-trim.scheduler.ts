import { Cron } from 'croner';
import type { RedstreamLogger, Trimmer } from '../engine';
import type { TrimSchedule } from './redstream-module-options.resolver';

/**
 * Runs one stream's Trimmer on the module's schedule: the engine's own loop for an interval,
 * croner for a cron expression (croner: small, dependency-free, maintained, ESM and CJS).
 */
export class RedstreamTrimScheduler {
  private job?: Cron;
  private run?: Promise<void>;
  private stopped?: Promise<void>;

  constructor(
    readonly trimmer: Trimmer,
    private readonly schedule: TrimSchedule,
    private readonly logger: RedstreamLogger,
  ) {}

  /** Starts trimming in the background; returns at once. */
  start(): void {
    if (this.job || this.stopped) return;
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

  /** Stops the schedule, waits for a run in progress and releases the trimmer's lock. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.job?.stop();
      await this.run;
      await this.trimmer.stop();
    })();
    return this.stopped;
  }

  private async trimOnce(): Promise<void> {
    try {
      await this.trimmer.trimOnce();
    } catch (error) {
      this.logger.error(`Trimmer ${this.trimmer.stream}: ${(error as Error).message}; trying again on schedule`);
    }
  }
}
