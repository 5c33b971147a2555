import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import { RedstreamConfigError } from './errors';
import type { LockExpiryWatch } from './lock-expiry-watch';
import type { ShardGroups } from './shard-group-membership';
import { RedisConnectionFactory } from './redis-connection';
import { RedstreamKeys } from './redstream-keys';
import type { SharedBlockingReads } from './shared-blocking-reads';
import type { RedstreamTelemetry } from './telemetry/redstream-telemetry';

/** What every engine component shares: the key layout, the connections and the logger. */
export interface RedstreamContext {
  readonly keys: RedstreamKeys;
  readonly connections: RedisConnectionFactory;
  readonly logger: RedstreamLogger;
  /** Wakes standbys when a lock expires (a crashed owner); absent, standbys only poll. */
  readonly lockExpiry?: LockExpiryWatch;
  /** The workers' shared blocking connections; absent, every worker blocks on its own. */
  readonly sharedReads?: SharedBlockingReads;
  /** Metrics and spans (OpenTelemetry); none recorded when absent. */
  readonly telemetry?: RedstreamTelemetry;
  /** The shard groups of this instance; absent, shard groups are not balanced. */
  readonly shardGroups?: ShardGroups;
}

/** Prefixes every line with `[redstream]` and writes to the console. */
export const consoleLogger: RedstreamLogger = {
  log: (message, ...rest) => console.log(`[redstream] ${message}`, ...rest),
  warn: (message, ...rest) => console.warn(`[redstream] ${message}`, ...rest),
  error: (message, ...rest) => console.error(`[redstream] ${message}`, ...rest),
  debug: () => undefined,
};

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: RedstreamLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

const LOGGER_METHODS = ['log', 'warn', 'error'] as const;

/**
 * The logger an option asks for: `false` is silent, `undefined` is `fallback`, and anything
 * else must have `log`, `warn` and `error` methods (as the module's `logger` option).
 * `what` names the option in the RedstreamConfigError.
 */
export function resolveLogger(value: unknown, what: string, fallback: RedstreamLogger): RedstreamLogger {
  if (value === undefined) return fallback;
  if (value === false) return silentLogger;
  const expected = `${what} must be an object with log, warn and error methods, or false`;
  if (typeof value !== 'object' || value === null) {
    throw new RedstreamConfigError(`${expected}, got ${JSON.stringify(value) ?? typeof value}`);
  }
  const candidate = value as Partial<Record<keyof RedstreamLogger, unknown>>;
  const missing = LOGGER_METHODS.filter((method) => typeof candidate[method] !== 'function');
  if (missing.length > 0) throw new RedstreamConfigError(`${expected}; it has no ${missing.join(', ')} method`);
  return value as RedstreamLogger;
}
