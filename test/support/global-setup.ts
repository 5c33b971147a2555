import { startRedisServer } from './redis-server';

/**
 * Starts the suite's shared `redis-server` unless REDIS_URL points at one.
 * Tests that kill or restart Redis start servers of their own.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    process.env.REDSTREAM_TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const server = await startRedisServer();
  process.env.REDSTREAM_TEST_REDIS_URL = server.url;
  (globalThis as { __REDSTREAM_REDIS__?: typeof server }).__REDSTREAM_REDIS__ = server;
}
