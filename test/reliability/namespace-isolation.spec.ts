import Redis from 'ioredis';
import { Redstream, silentLogger } from '../../lib/engine';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

// Two applications share one Redis with the same stream and consumer names: neither may see,
// take the lock of, register with, or trim the other's data.
describe('namespace isolation', () => {
  let redis: Redis;
  let first: Redstream;
  let second: Redstream;

  beforeEach(() => {
    redis = connectTestRedis();
    const base = uniqueNamespace('iso');
    first = new Redstream({ redis: testRedisUrl(), namespace: `${base}-a`, logger: silentLogger });
    // A namespace that is a prefix of the other must not overlap either.
    second = new Redstream({ redis: testRedisUrl(), namespace: `${base}-a:b`, logger: silentLogger });
  });

  afterEach(async () => {
    await Promise.all([first.close(), second.close()]);
    redis.disconnect();
  });

  it('never sees, locks or trims the keys of another namespace', async () => {
    const options = { stream: 'products', name: 'indexer', blockMs: 300, lockTtlMs: 1_000, lockRefreshMs: 300 };
    const seenByFirst: unknown[] = [];
    const seenBySecond: unknown[] = [];
    const firstConsumer = first.consumer({
      ...options,
      handler: (messages) => void seenByFirst.push(...messages.map((message) => message.payload.id)),
    });
    const secondConsumer = second.consumer({
      ...options,
      handler: (messages) => void seenBySecond.push(...messages.map((message) => message.payload.id)),
    });
    firstConsumer.start();
    secondConsumer.start();
    // Same (stream, name) in both: both must be active at once, each holding its own lock.
    await waitFor(() => firstConsumer.isActive && secondConsumer.isActive);

    const firstIds = await first.producer().queue('products', [{ id: 'a1' }, { id: 'a2' }]);
    await second.producer().queue('products', [{ id: 'b1' }, { id: 'b2' }, { id: 'b3' }]);
    await second.producer().delay('products', { id: 'b-delayed' });
    await waitFor(() => seenByFirst.length === 2 && seenBySecond.length === 3);
    await waitFor(async () => (await first.committedOffset('products', 'indexer')) === firstIds[1]);

    // The first namespace's trimmer deletes only its own committed entries.
    const firstTrim = await first.trimmer({ stream: 'products' }).trimOnce();
    expect(firstTrim.trimmed).toBe(2);
    expect(await first.streamLength('products')).toBe(0);
    expect(await second.streamLength('products')).toBe(3);
    expect(await second.delayStreamLength('products')).toBe(1);

    // A delayer of the first namespace does not touch the second's delay stream: once it has
    // re-queued its own due message (a full pass), the second's is still there.
    await first.producer().delay('products', { id: 'a-delayed' });
    const firstDelayer = first.delayer({ stream: 'products', delay: 1, blockMs: 300 });
    firstDelayer.start();
    await waitFor(async () => seenByFirst.includes('a-delayed') && (await first.delayStreamLength('products')) === 0);
    expect(await second.delayStreamLength('products')).toBe(1);

    await Promise.all([firstConsumer.stop(), secondConsumer.stop(), firstDelayer.stop()]);
    expect(seenByFirst).toEqual(['a1', 'a2', 'a-delayed']);
    expect(seenBySecond).toEqual(['b1', 'b2', 'b3']);

    const firstKeys = await redis.keys(`${first.keys.base}:*`);
    const secondKeys = await redis.keys(`${second.keys.base}:*`);
    expect(firstKeys.length).toBeGreaterThan(0);
    expect(secondKeys.length).toBeGreaterThan(0);
    for (const key of firstKeys) expect(key.startsWith(`${second.keys.base}:`)).toBe(false);
    for (const key of secondKeys) expect(key.startsWith(`${first.keys.base}:`)).toBe(false);
    expect(await first.registeredConsumers('products')).toEqual(['indexer']);
    expect(await second.registeredConsumers('products')).toEqual(['indexer']);
  });

  it('keeps namespaced keys apart from the un-namespaced gem layout', async () => {
    const plain = new Redstream({ redis: testRedisUrl(), logger: silentLogger });
    try {
      const stream = uniqueNamespace('plain-stream');
      await plain.producer().queue(stream, { id: 1 });
      expect(await first.streamLength(stream)).toBe(0);
      expect(await redis.xlen(`redstream:stream:${stream}`)).toBe(1);
      await redis.del(`redstream:stream:${stream}`);
    } finally {
      await plain.close();
    }
  });
});
