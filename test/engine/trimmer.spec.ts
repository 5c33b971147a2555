import Redis from 'ioredis';
import { Consumer, Redstream, silentLogger, Trimmer, TrimmerOptions } from '../../lib/engine';
import { scripts } from '../../lib/engine/scripts';
import { connectTestRedis, sleep, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

describe('Trimmer', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const workers: (Consumer | Trimmer)[] = [];
  const streamKey = (): string => `${namespace}:redstream:stream:products`;
  const registryKey = (): string => `${namespace}:redstream:consumers:products`;
  const offsetKey = (name: string): string => `${namespace}:redstream:offset:products:${name}`;
  const trimmer = (options: Partial<TrimmerOptions> = {}): Trimmer => {
    const created = redstream.trimmer({ stream: 'products', ...options });
    workers.push(created);
    return created;
  };
  const queue = (count: number): Promise<string[]> =>
    redstream.producer().queue(
      'products',
      Array.from({ length: count }, (_, index) => ({ id: index })),
    );
  const remaining = async (): Promise<string[]> => (await admin.xrange(streamKey(), '-', '+')).map(([id]) => id);
  const register = (...names: string[]): Promise<number> => admin.sadd(registryKey(), ...names);

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    // One test leaves a handler hanging for ever: do not wait for it.
    await redstream.close({ drainTimeoutMs: 100 });
    await admin.quit();
  });

  describe('plan (dry run)', () => {
    it('tells what a trim would delete, deletes nothing and takes no lock, then agrees with the trim', async () => {
      const ids = await queue(10);
      await register('a', 'b');
      await admin.set(offsetKey('a'), ids[6]);
      expect(await trimmer().plan()).toEqual({ entries: 0, skipped: 'consumer-without-offset', consumers: ['a', 'b'] });
      await admin.set(offsetKey('b'), ids[3]);
      const counts: number[] = [];
      const plan = await trimmer().plan({ onCount: (counted) => counts.push(counted) });
      expect(plan).toEqual({ entries: 4, firstId: ids[0], lastId: ids[3], consumers: ['a', 'b'] });
      expect(counts).toEqual([4]);
      expect(await remaining()).toEqual(ids);
      expect(await admin.exists(`${namespace}:redstream:lock:trimmer:products`)).toBe(0);
      expect(await trimmer().trimOnce()).toEqual({ trimmed: 4, consumers: ['a', 'b'] });
      expect(await trimmer().plan()).toEqual({ entries: 0, skipped: 'nothing-committed', consumers: ['a', 'b'] });
    });

    it("keeps a group's oldest pending entry out of the plan, as the trim does", async () => {
      const ids = await queue(6);
      await admin.xgroup('CREATE', streamKey(), 'search', '0');
      await admin.xreadgroup('GROUP', 'search', 'm', 'COUNT', 4, 'STREAMS', streamKey(), '>');
      await admin.xack(streamKey(), 'search', ids[0], ids[1]);
      expect(await trimmer().plan()).toEqual({ entries: 2, firstId: ids[0], lastId: ids[1], consumers: [] });
      expect(await trimmer().plan()).toMatchObject({ entries: 2 });
      expect(await trimmer({ groupNames: ['later'] }).plan()).toEqual({
        entries: 0,
        skipped: 'group-missing',
        consumers: [],
      });
      expect(await trimmer().trimOnce()).toMatchObject({ trimmed: 2 });
      expect(await remaining()).toEqual(ids.slice(2));
    });

    it('says no-consumers on a stream nobody reads', async () => {
      await queue(2);
      expect(await trimmer().plan()).toEqual({ entries: 0, skipped: 'no-consumers', consumers: [] });
    });
  });

  it('deletes exactly what every running consumer committed, inclusive', async () => {
    const ids = await queue(10);
    const fast = redstream.consumer({ stream: 'products', name: 'fast', batchSize: 2, handler: () => undefined });
    let slowSeen = 0;
    const slow = redstream.consumer({
      stream: 'products',
      name: 'slow',
      batchSize: 2,
      // Handles two batches, then hangs in the third.
      handler: (messages) => {
        slowSeen += messages.length;
        return slowSeen > 4 ? new Promise(() => undefined) : undefined;
      },
    });
    workers.push(fast);
    fast.start();
    slow.start();
    await waitFor(async () => (await redstream.committedOffset('products', 'fast')) === ids[9]);
    await waitFor(async () => (await redstream.committedOffset('products', 'slow')) === ids[3]);

    const worker = trimmer();
    expect(await worker.trimOnce()).toEqual({ trimmed: 4, consumers: ['fast', 'slow'] });
    expect(await remaining()).toEqual(ids.slice(4));
    expect(await worker.trimOnce()).toEqual({ trimmed: 0, skipped: 'nothing-committed', consumers: ['fast', 'slow'] });
    expect(await remaining()).toEqual(ids.slice(4));
    void slow.stop(); // its handler never returns
  });

  it('trims nothing while a registered or configured consumer has no offset', async () => {
    const ids = await queue(3);
    await register('indexer', 'new-one');
    await admin.set(offsetKey('indexer'), ids[2]);
    const registeredOnly = trimmer();
    expect(await registeredOnly.trimOnce()).toEqual({
      trimmed: 0,
      skipped: 'consumer-without-offset',
      consumers: ['indexer', 'new-one'],
    });
    await registeredOnly.stop(); // a trimmer keeps its lock for a ttl after a run
    await admin.srem(registryKey(), 'new-one');
    expect(await trimmer({ consumerNames: ['configured'] }).trimOnce()).toMatchObject({
      trimmed: 0,
      skipped: 'consumer-without-offset',
      consumers: ['configured', 'indexer'],
    });
    expect(await remaining()).toEqual(ids);
  });

  it('uses the registered and the configured names together', async () => {
    const ids = await queue(6);
    await register('registered');
    await admin.set(offsetKey('registered'), ids[4]);
    await admin.set(offsetKey('configured'), ids[1]);
    const result = await trimmer({ consumerNames: ['configured', 'registered'] }).trimOnce();
    expect(result).toEqual({ trimmed: 2, consumers: ['configured', 'registered'] });
    expect(await remaining()).toEqual(ids.slice(2));
  });

  it('trims nothing without any consumer, or when nothing in the stream is committed', async () => {
    const ids = await queue(2);
    const worker = trimmer();
    expect(await worker.trimOnce()).toEqual({ trimmed: 0, skipped: 'no-consumers', consumers: [] });
    await register('indexer');
    await admin.set(offsetKey('indexer'), '1-0');
    expect(await worker.trimOnce()).toEqual({ trimmed: 0, skipped: 'nothing-committed', consumers: ['indexer'] });
    expect(await remaining()).toEqual(ids);
  });

  it('stops waiting for a consumer once it is forgotten', async () => {
    const ids = await queue(3);
    await register('indexer', 'decommissioned', 'also-gone');
    await admin.set(offsetKey('indexer'), ids[1]);
    const worker = trimmer();
    expect((await worker.trimOnce()).skipped).toBe('consumer-without-offset');
    await worker.forgetConsumer('decommissioned');
    await redstream.forgetConsumer('products', 'also-gone');
    expect(await redstream.registeredConsumers('products')).toEqual(['indexer']);
    expect(await worker.trimOnce()).toEqual({ trimmed: 2, consumers: ['indexer'] });
    expect(await remaining()).toEqual([ids[2]]);
  });

  it('refuses a consumer list that misses a registered consumer (registry read in the same step)', async () => {
    // What trimOnce() meets when a consumer registers between its registry read and the trim.
    const ids = await queue(2);
    await register('indexer', 'late');
    await admin.set(offsetKey('indexer'), ids[1]);
    const result = await scripts.trimWithGroups.run(
      redstream.client,
      [streamKey(), registryKey(), offsetKey('indexer')],
      [1, 'trim', 'indexer'],
    );
    expect(result).toBe(-2);
    expect(await remaining()).toEqual(ids);
  });

  it('lets only one of two trimmers trim at a time (the trimmer:<stream> lock)', async () => {
    const ids = await queue(4);
    await register('indexer');
    await admin.set(offsetKey('indexer'), ids[1]);
    const first = trimmer({ lockTtlMs: 5_000, lockRefreshMs: 1_000 });
    const second = trimmer({ lockTtlMs: 5_000, lockRefreshMs: 1_000 });
    const results = await Promise.all([first.trimOnce(), second.trimOnce()]);
    expect(results.filter((result) => result.skipped === 'locked')).toHaveLength(1);
    expect(results.reduce((sum, result) => sum + result.trimmed, 0)).toBe(2);
    const [holder, other] = results[0].skipped === 'locked' ? [second, first] : [first, second];
    expect(await admin.get(`${namespace}:redstream:lock:trimmer:products`)).toMatch(/^[0-9a-f]{32}$/);
    await admin.set(offsetKey('indexer'), ids[3]);
    expect((await other.trimOnce()).skipped).toBe('locked');
    await holder.stop(); // releases the lock
    expect(await other.trimOnce()).toEqual({ trimmed: 2, consumers: ['indexer'] });
  });

  it('trims every interval until stopped; stop() is prompt and releases the lock', async () => {
    const ids = await queue(6);
    await register('indexer');
    await admin.set(offsetKey('indexer'), ids[1]);
    const worker = trimmer({ interval: 100 });
    worker.start();
    await waitFor(async () => (await remaining()).length === 4);
    await admin.set(offsetKey('indexer'), ids[3]);
    await waitFor(async () => (await remaining()).length === 2);

    const long = trimmer({ interval: '10s' });
    await worker.stop();
    long.start();
    await waitFor(async () => (await admin.exists(`${namespace}:redstream:lock:trimmer:products`)) === 1);
    const started = Date.now();
    await long.stop();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await admin.exists(`${namespace}:redstream:lock:trimmer:products`)).toBe(0);

    await admin.set(offsetKey('indexer'), ids[5]);
    await sleep(300);
    expect(await remaining()).toEqual(ids.slice(4));
  });

  it('never trims an entry a live consumer has not handled yet', async () => {
    const count = 300;
    const ids = await queue(count);
    const seen: string[] = [];
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      batchSize: 7,
      handler: async (messages) => {
        seen.push(...messages.map((message) => message.id));
        await sleep(2);
      },
    });
    workers.push(consumer);
    const worker = trimmer({ interval: 5 });
    consumer.start();
    worker.start();
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === ids[count - 1], 20_000);
    expect(seen).toEqual(ids);
    await waitFor(async () => (await admin.xlen(streamKey())) === 0);
  });
});
