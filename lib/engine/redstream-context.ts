import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import { RedisConnectionFactory } from './redis-connection';
import { RedstreamKeys } from './redstream-keys';

/** What every engine component shares: the key layout, the connections and the logger. */
export interface RedstreamContext {
  readonly keys: RedstreamKeys;
  readonly connections: RedisConnectionFactory;
  readonly logger: RedstreamLogger;
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
