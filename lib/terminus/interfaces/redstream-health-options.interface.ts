/** Options of {@link RedstreamHealthIndicator.isHealthy}. */
export interface RedstreamHealthOptions {
  /**
   * How long Redis may take to answer the PING, and each read of the check after it, in ms.
   * Default 1000: a health endpoint must answer even when Redis does not.
   */
  timeoutMs?: number;
  /**
   * Down when more entries than this wait for a consumer or a group of this process (after its
   * committed offset or last delivered id). Unset: entries are not checked.
   */
  maxLagEntries?: number;
  /**
   * Down when the oldest entry waiting for a consumer or group of this process is older than
   * this, in ms; for a Delayer, when its oldest delay message is this much overdue (older than
   * its `delay` plus this). Unset: age is not checked.
   */
  maxLagMs?: number;
}

/** Why one worker of this process makes the check fail. */
export interface RedstreamHealthProblem {
  kind: 'consumer' | 'group-consumer' | 'delayer' | 'trimmer';
  stream: string;
  /** The consumer name, the group, `delayer` or `trimmer`. */
  name: string;
  /** Each reason on its own, e.g. `stalled since 2026-01-01T00:00:00.000Z: ...`. */
  reasons: string[];
}

/** What the check found; the details of the terminus result under its key (besides `status`). */
export interface RedstreamHealthDetails {
  redis: { reachable: boolean; pingMs?: number; error?: string };
  /** The enabled handlers of this process: active ones, hot standbys of a live owner elsewhere, and the rest. */
  handlers: { total: number; active: number; standby: number };
  /** Every worker that fails the check, with why; empty when healthy. */
  failing: RedstreamHealthProblem[];
}
