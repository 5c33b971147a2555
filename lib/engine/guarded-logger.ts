import { describeFailure } from './failure-reporter';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';

/**
 * Wraps an application's logger so that a logger which throws can never take a worker down
 * (the throw would otherwise escape the worker's catch, or a timer's callback, and leave the
 * process as an uncaught exception). A line the logger failed on goes to `console.error`,
 * with why.
 */
export function guardLogger(logger: RedstreamLogger): RedstreamLogger {
  const guard =
    (level: 'log' | 'warn' | 'error' | 'debug') =>
    (message: string, ...params: unknown[]): void => {
      try {
        logger[level]?.(message, ...params);
      } catch (error) {
        try {
          console.error(
            `[redstream] (the logger threw on a ${level} line: ${describeFailure(error)}) ${message}`,
            ...params,
          );
        } catch {
          // Nowhere left to write to.
        }
      }
    };
  return { log: guard('log'), warn: guard('warn'), error: guard('error'), debug: guard('debug') };
}
