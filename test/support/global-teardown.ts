import type { RedisServerHandle } from './redis-server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __REDSTREAM_REDIS__?: RedisServerHandle }).__REDSTREAM_REDIS__;
  await server?.stop();
}
