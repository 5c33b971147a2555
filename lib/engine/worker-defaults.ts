import type { ReadingWorkerOptions } from './interfaces/worker-options.interface';
import { RedstreamConfigError } from './errors';
import { positiveInteger } from './option-validation';

export const WORKER_DEFAULTS = {
  lockTtlMs: 5_000,
  lockRefreshMs: 3_000,
  standbyPollMs: 1_000,
  backoffInitialMs: 200,
  backoffMaxMs: 30_000,
  batchSize: 1_000,
  maxBatchBytes: 8 * 1024 * 1024,
  blockMs: 5_000,
  readGraceMs: 5_000,
  stalledAfterMs: 60_000,
  shardBalanceDelayMs: 5_000,
} as const;

export type ResolvedWorkerOptions = { -readonly [K in keyof typeof WORKER_DEFAULTS]: number };

/** Fills in defaults and validates; `where` names the worker in error messages. */
export function resolveWorkerOptions(options: ReadingWorkerOptions, where: string): ResolvedWorkerOptions {
  const resolved = { ...WORKER_DEFAULTS } as ResolvedWorkerOptions;
  for (const key of Object.keys(WORKER_DEFAULTS) as (keyof ResolvedWorkerOptions)[]) {
    const value = options[key];
    if (value !== undefined) resolved[key] = positiveInteger(value, `${where}: ${key}`);
  }
  if (resolved.lockRefreshMs >= resolved.lockTtlMs) {
    throw new RedstreamConfigError(
      `${where}: lockRefreshMs (${resolved.lockRefreshMs}) must be below lockTtlMs (${resolved.lockTtlMs})`,
    );
  }
  if (resolved.backoffMaxMs < resolved.backoffInitialMs) {
    throw new RedstreamConfigError(`${where}: backoffMaxMs must not be below backoffInitialMs`);
  }
  return resolved;
}
