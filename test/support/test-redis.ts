import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

/** URL of the suite's shared Redis (started by global-setup, or REDIS_URL). */
export function testRedisUrl(): string {
  const url = process.env.REDSTREAM_TEST_REDIS_URL ?? process.env.REDIS_URL;
  if (!url) throw new Error('No test Redis: run the tests through jest (global-setup) or set REDIS_URL');
  return url;
}

/** A namespace of its own for each test, so that parallel test files never share keys. */
export function uniqueNamespace(prefix = 'test'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function connectTestRedis(url = testRedisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

/** Polls `check` until it returns a truthy value or the timeout passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`waitFor timed out after ${timeoutMs} ms (last value: ${String(last)})`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
