import { RedstreamConfigError } from './errors';
import { nonNegativeMs } from './option-validation';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'30s'`, `'5m'`, `'1h'`. */
export type Duration = number | string;

/** Milliseconds of a {@link Duration}; throws RedstreamConfigError naming `what` for anything else. */
export function durationToMs(value: Duration, what: string): number {
  if (typeof value === 'number') return nonNegativeMs(value, what);
  if (typeof value === 'string') {
    const match = DURATION.exec(value);
    if (match) return Math.round(Number(match[1]) * UNIT_MS[match[2]]);
  }
  throw new RedstreamConfigError(
    `${what} must be milliseconds or a duration such as '500ms', '30s', '5m', '1h', got ${JSON.stringify(value)}`,
  );
}
