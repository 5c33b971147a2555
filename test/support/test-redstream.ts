import type Redis from 'ioredis';
import { Redstream, RedstreamLogger, silentLogger } from '../../lib/engine';
import { connectTestRedis, testRedisUrl, uniqueNamespace } from './test-redis';

/** An engine on the test Redis under a fresh namespace, and a raw client to arrange keys with. */
export interface TestRedstream {
  namespace: string;
  redstream: Redstream;
  admin: Redis;
}

/**
 * For a spec's beforeEach: `({ namespace, redstream, admin } = openTestRedstream())`; pass a
 * `RecordingLogger` to assert on what the engine logs.
 */
export function openTestRedstream(namespacePrefix?: string, logger: RedstreamLogger = silentLogger): TestRedstream {
  const namespace = uniqueNamespace(namespacePrefix);
  return {
    namespace,
    admin: connectTestRedis(),
    redstream: new Redstream({ redis: testRedisUrl(), namespace, logger }),
  };
}

/** For a spec's afterEach: stops (and forgets) the test's workers, then closes both clients. */
export async function closeTestRedstream(
  { redstream, admin }: Omit<TestRedstream, 'namespace'>,
  workers: { stop(): Promise<void> }[] = [],
): Promise<void> {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await redstream.close();
  await admin.quit();
}

/** Redis's clock on the test server, in ms: entry ages are measured on it. */
export async function redisTimeMs(admin: Redis): Promise<number> {
  const [seconds, micros] = await admin.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** `count` entries `{"id":i}` on `key`, the first written with an id `ageMs` old on Redis's clock. */
export async function writeAgedEntries(admin: Redis, key: string, count: number, ageMs = 60_000): Promise<string[]> {
  const ids = [(await admin.xadd(key, `${(await redisTimeMs(admin)) - ageMs}-0`, 'payload', '{"id":0}'))!];
  for (let i = 1; i < count; i++) ids.push((await admin.xadd(key, '*', 'payload', `{"id":${i}}`))!);
  return ids;
}
