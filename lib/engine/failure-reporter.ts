import { guardLogger } from './guarded-logger';
import type { RedstreamLogFields, RedstreamLogger } from './interfaces/redstream-logger.interface';
import type { StallWatch } from './stall-watch';

/** Consecutive failure counts after which a summary line is logged (then at least once a minute). */
const SUMMARY_AT = [10, 100, 1_000, 10_000, 100_000, 1_000_000];
const SUMMARY_EVERY_MS = 60_000;

/** The message of anything thrown; a thrown non-Error is named as such. */
export function describeFailure(error: unknown): string {
  return error instanceof Error ? error.message : `a non-Error was thrown: ${String(error)}`;
}

/**
 * A stack without Node's own frames (task queues, timers), which differ between two throws of
 * the same error from the same code depending on what woke the code up.
 */
function withoutRuntimeFrames(stack: string): string {
  return stack
    .split('\n')
    .filter((line) => !line.includes('(node:') && !line.includes(' at node:'))
    .join('\n');
}

/** An Error for anything thrown, for events and callers that expect one. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describeFailure(error));
}

/**
 * Logs a run of failures of one kind (a handler retried on the same batch, a loop that cannot
 * reach Redis) without flooding the log: one line per failure, the stack only when an error
 * differs from the one before (same message and stack, Node's own frames aside, counts as
 * the same), and while the failures go on a summary at 10, 100, 1000... failures in a row
 * and at least once a minute. A success ends the run.
 */
export class FailureReporter {
  private failures = 0;
  private since = 0;
  private lastSummaryAt = 0;
  private lastKey?: string;

  private readonly logger: RedstreamLogger;

  constructor(
    logger: RedstreamLogger,
    /** Prefix of every line, e.g. `Consumer products:indexer`. */
    private readonly label: string,
    private readonly now: () => number = Date.now,
    /** Told of every failure and of the success that ends a run: the worker's stalled state. */
    private readonly stallWatch?: StallWatch,
  ) {
    // Lines carry fields (the attempt): a logger without `write` gets the text, as before.
    this.logger = guardLogger(logger);
  }

  /** Failures in a row so far. */
  get attempts(): number {
    return this.failures;
  }

  /**
   * Logs one failure; `describe` gets the attempt number (1 for the first failure in a row)
   * and the error's message, and returns the line after the label. `fields` (the batch's
   * `ids`) go with the line, and `attempt` with it and the summary.
   */
  failed(error: unknown, describe: (attempt: number, reason: string) => string, fields: RedstreamLogFields = {}): void {
    const now = this.now();
    const reason = describeFailure(error);
    const stack = error instanceof Error ? error.stack : undefined;
    if (this.failures === 0) {
      this.since = now;
      this.lastSummaryAt = now;
    }
    this.failures++;
    const key = `${reason}\n${stack === undefined ? '' : withoutRuntimeFrames(stack)}`;
    const line = `${this.label}: ${describe(this.failures, reason)}`;
    const lineFields: RedstreamLogFields = { ...fields, attempt: this.failures };
    if (key !== this.lastKey && stack !== undefined) this.logger.error(line, stack, lineFields);
    else this.logger.error(line, lineFields);
    this.lastKey = key;
    this.stallWatch?.failing(this, this.since, this.failures, asError(error));
    if (SUMMARY_AT.includes(this.failures) || now - this.lastSummaryAt >= SUMMARY_EVERY_MS) {
      this.lastSummaryAt = now;
      this.logger.error(
        `${this.label}: still failing after ${this.failures} attempts since ${new Date(this.since).toISOString()}: ${reason}`,
        lineFields,
      );
    }
  }

  /** Ends a run of failures: the next failure logs its stack again. */
  succeeded(): void {
    if (this.failures === 0) return;
    this.failures = 0;
    this.lastKey = undefined;
    this.stallWatch?.ended(this);
  }
}
