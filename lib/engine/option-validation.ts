import { RedstreamConfigError } from './errors';

// The rules every option of the engine and the module is checked with, so that one kind of
// value is accepted (and explained) the same way everywhere. `what` names the option.

/** A whole number of at least 1 (batch sizes, counts, timings that must tick). */
export function positiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RedstreamConfigError(`${what} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A finite number of milliseconds above 0 (timeouts). */
export function positiveMs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RedstreamConfigError(`${what} must be a positive number of ms, got ${describe(value)}`);
  }
  return value;
}

/** A finite number of milliseconds of at least 0 (waits that may be skipped). */
export function nonNegativeMs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RedstreamConfigError(`${what} must be a non-negative number of ms, got ${describe(value)}`);
  }
  return value;
}

/** `true` or `false`; `fallback` when undefined. */
export function booleanOption(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new RedstreamConfigError(`${what} must be true or false, got ${describe(value)}`);
  }
  return value;
}

/** One of `allowed` (strings or booleans); `fallback` when undefined. */
export function oneOf<T extends string | boolean>(value: unknown, what: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    const choices = allowed.map((choice) => (typeof choice === 'string' ? `'${choice}'` : String(choice)));
    const list = `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`;
    throw new RedstreamConfigError(`${what} must be ${list}, got ${describe(value)}`);
  }
  return value as T;
}

/** JSON for the message, but numbers JSON cannot spell (Infinity, NaN) as themselves. */
function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}
