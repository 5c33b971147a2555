import Redis from 'ioredis';
import {
  Consumer,
  Delayer,
  GroupConsumer,
  Redstream,
  RedstreamConfigError,
  WorkerRecovery,
  WorkerStall,
} from '../../lib/engine';
import { waitFor } from '../support/test-redis';
import { closeTestRedstream, openTestRedstream, redisTimeMs, writeAgedEntries } from '../support/test-redstream';

/** A promise with its resolve function, to hold a handler until the test lets it go. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('lag', () => {
  let redstream: Redstream;
  let admin: Redis;
  const workers: { stop(): Promise<void> }[] = [];
  const streamKey = (): string => redstream.keys.stream('products');
  const track = <T extends { stop(): Promise<void> }>(worker: T): T => {
    workers.push(worker);
    return worker;
  };
  /** `count` entries, the first written with an id `ageMs` old on Redis's clock. */
  const writeEntries = (count: number, ageMs?: number): Promise<string[]> =>
    writeAgedEntries(admin, streamKey(), count, ageMs);
  const setOffset = (id: string): Promise<unknown> => admin.set(redstream.keys.offset('products', 'indexer'), id);

  beforeEach(() => {
    ({ redstream, admin } = openTestRedstream());
  });
  afterEach(() => closeTestRedstream({ redstream, admin }, workers));

  describe('of an offset consumer', () => {
    it('is nothing for a stream that does not exist', async () => {
      expect(await redstream.lag('products', 'indexer')).toEqual({
        stream: 'products',
        consumer: 'indexer',
        offset: null,
        entries: 0,
        oldestAgeMs: 0,
        exact: true,
      });
    });

    it('counts the entries after the committed offset as a consumer handles them, aged on Redis TIME', async () => {
      const ids = await writeEntries(10);
      const before = await redstream.lag('products', 'indexer');
      expect(before).toMatchObject({ offset: null, entries: 10, exact: true });
      expect(before.oldestAgeMs).toBeGreaterThanOrEqual(60_000);
      expect(before.oldestAgeMs).toBeLessThan(70_000);

      const hold = deferred();
      let batches = 0;
      const consumer: Consumer = track(
        redstream.consumer({
          stream: 'products',
          name: 'indexer',
          batchSize: 4,
          handler: async () => {
            if (++batches > 1) await hold.promise;
          },
        }),
      );
      consumer.start();
      await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === ids[3]);
      const during = await redstream.lag('products', 'indexer');
      expect(during).toMatchObject({ offset: ids[3], entries: 6, exact: true });
      // The oldest waiting entry is ids[4], written just now, not the minute-old first one.
      expect(during.oldestAgeMs).toBeLessThan(30_000);

      hold.resolve();
      await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === ids[9]);
      expect(await redstream.lag('products', 'indexer')).toMatchObject({ entries: 0, oldestAgeMs: 0, exact: true });
    });

    it('stays exact after a foreign XDEL after the offset and after a trim past it', async () => {
      const ids = await writeEntries(10);
      await setOffset(ids[3]);
      await admin.xdel(streamKey(), ids[5]);
      expect(await redstream.lag('products', 'indexer')).toMatchObject({ offset: ids[3], entries: 5, exact: true });

      await admin.xtrim(streamKey(), 'MINID', ids[7]);
      const trimmed = await redstream.lag('products', 'indexer');
      expect(trimmed).toMatchObject({ entries: 3, exact: true });
      expect(trimmed.oldestAgeMs).toBeLessThan(30_000);
    });

    it('counts the entries before the offset when more than maxCount follow it, and estimates beyond that', async () => {
      const ids = await writeEntries(10);
      await setOffset(ids[3]);
      // 6 after, 4 at or below the offset.
      expect(await redstream.lag('products', 'indexer', { maxCount: 5 })).toMatchObject({ entries: 6, exact: true });
      const estimated = await redstream.lag('products', 'indexer', { maxCount: 2 });
      expect(estimated).toMatchObject({ exact: false, entriesAtLeast: 3, entriesAtMost: 7 });
      expect(estimated.entries).toBeGreaterThanOrEqual(3);
      expect(estimated.entries).toBeLessThanOrEqual(7);
    });

    it('rejects a bad maxCount, stream or consumer name', async () => {
      await expect(redstream.lag('products', 'indexer', { maxCount: 0 })).rejects.toThrow(
        new RedstreamConfigError('Redstream.lag: maxCount must be a positive integer, got 0'),
      );
      await expect(redstream.lag('a:b', 'indexer')).rejects.toThrow(RedstreamConfigError);
      await expect(redstream.lag('products', 'a b')).rejects.toThrow(RedstreamConfigError);
    });
  });

  describe('of a consumer group', () => {
    it('is undefined without the group, else counts undelivered and pending entries', async () => {
      expect(await redstream.groupLag('products', 'search')).toBeUndefined();
      const ids = await writeEntries(10);
      await admin.xgroup('CREATE', streamKey(), 'search', '0');
      await admin.xreadgroup('GROUP', 'search', 'm1', 'COUNT', 3, 'STREAMS', streamKey(), '>');
      await admin.xack(streamKey(), 'search', ids[1]);

      const lag = (await redstream.groupLag('products', 'search'))!;
      expect(lag).toMatchObject({
        stream: 'products',
        group: 'search',
        entries: 7,
        exact: true,
        lastDeliveredId: ids[2],
        pending: 2,
      });
      expect(lag.oldestAgeMs).toBeLessThan(30_000);
      expect(lag.oldestPendingAgeMs).toBeGreaterThanOrEqual(60_000);

      await admin.xreadgroup('GROUP', 'search', 'm1', 'STREAMS', streamKey(), '>');
      expect(await redstream.groupLag('products', 'search')).toMatchObject({ entries: 0, oldestAgeMs: 0, pending: 9 });
    });
    it('counts (or estimates) a lag Redis cannot tell, as for an offset consumer', async () => {
      const ids = await writeEntries(10);
      // Created in the middle, the group's lag is unknown to Redis.
      await admin.xgroup('CREATE', streamKey(), 'search', ids[3]);
      expect(await redstream.groupLag('products', 'search')).toMatchObject({ entries: 6, exact: true });
      expect(await redstream.groupLag('products', 'search', { maxCount: 5 })).toMatchObject({
        entries: 6,
        exact: true,
      });
      const estimated = (await redstream.groupLag('products', 'search', { maxCount: 2 }))!;
      expect(estimated).toMatchObject({ exact: false, entriesAtLeast: 3, entriesAtMost: 7 });
      expect(estimated.entries).toBeGreaterThanOrEqual(3);
      expect(estimated.entries).toBeLessThanOrEqual(7);
      expect(estimated.oldestAgeMs).toBeLessThan(30_000);
    });
  });

  describe("of the Delayer's backlog", () => {
    it('counts the delay messages waiting and ages the oldest, until the Delayer re-queues them', async () => {
      expect(await redstream.delayBacklog('products')).toEqual({
        stream: 'products',
        delayStream: 'products.delay',
        entries: 0,
        oldestAgeMs: 0,
        exact: true,
      });
      await admin.xadd(
        redstream.keys.delayStream('products'),
        `${(await redisTimeMs(admin)) - 60_000}-0`,
        'payload',
        '{}',
      );
      await redstream.producer().delay('products', [{ id: 1 }, { id: 2 }]);
      const backlog = await redstream.delayBacklog('products');
      expect(backlog).toMatchObject({ entries: 3, exact: true });
      expect(backlog.oldestAgeMs).toBeGreaterThanOrEqual(60_000);

      track(redstream.delayer({ stream: 'products', delay: 1 })).start();
      await waitFor(async () => (await redstream.delayBacklog('products')).entries === 0);
      expect(await redstream.delayBacklog('products')).toMatchObject({ oldestAgeMs: 0 });
      expect(await redstream.streamLength('products')).toBe(3);
    });
  });
});

describe('stalled workers', () => {
  let redstream: Redstream;
  let admin: Redis;
  const workers: { stop(): Promise<void> }[] = [];
  const fast = { stalledAfterMs: 300, backoffInitialMs: 20, backoffMaxMs: 50 };

  /** Records the stall events of `worker`. */
  const watch = (worker: Consumer | Delayer | GroupConsumer) => {
    const events: { stalled: WorkerStall[]; recovered: WorkerRecovery[] } = { stalled: [], recovered: [] };
    worker.on('stalled', (stall) => events.stalled.push(stall));
    worker.on('recovered', (recovery) => events.recovered.push(recovery));
    return events;
  };

  beforeEach(() => {
    ({ redstream, admin } = openTestRedstream());
  });
  afterEach(() => closeTestRedstream({ redstream, admin }, workers));

  it('a consumer whose batch keeps failing is stalled once after stalledAfterMs, and recovers on success', async () => {
    let failing = true;
    await redstream.producer().queue('products', [{ id: 1 }]);
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      ...fast,
      handler: () => {
        if (failing) throw new Error('search engine down');
      },
    });
    workers.push(consumer);
    const events = watch(consumer);
    const startedAt = Date.now();
    consumer.start();
    await waitFor(() => events.stalled.length > 0);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300);
    expect(consumer.isStalled).toBe(true);
    expect(consumer.stalledSince!.getTime()).toBeLessThanOrEqual(Date.now() - 300);
    expect(events.stalled[0]).toMatchObject({ error: new Error('search engine down') });
    expect(events.stalled[0].attempts).toBeGreaterThanOrEqual(2);
    expect(events.stalled[0].failingSince).toEqual(consumer.stalledSince);

    failing = false;
    await waitFor(() => events.recovered.length > 0);
    expect(consumer.isStalled).toBe(false);
    expect(consumer.stalledSince).toBeUndefined();
    expect(events.recovered[0].failedForMs).toBeGreaterThanOrEqual(300);
    expect(events.stalled).toHaveLength(1);
    expect(events.recovered).toHaveLength(1);
  });

  it('a consumer that fails for less than stalledAfterMs is never stalled', async () => {
    let failures = 0;
    await redstream.producer().queue('products', [{ id: 1 }]);
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      ...fast,
      stalledAfterMs: 60_000,
      handler: () => {
        if (++failures < 5) throw new Error('flaky');
      },
    });
    workers.push(consumer);
    const events = watch(consumer);
    consumer.start();
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) !== null);
    expect(consumer.isStalled).toBe(false);
    expect(events).toEqual({ stalled: [], recovered: [] });
  });

  it('a stop ends the stall without a recovered event', async () => {
    await redstream.producer().queue('products', [{ id: 1 }]);
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      ...fast,
      handler: () => {
        throw new Error('down');
      },
    });
    workers.push(consumer);
    const events = watch(consumer);
    consumer.start();
    await waitFor(() => consumer.isStalled);
    await consumer.stop();
    expect(consumer.isStalled).toBe(false);
    expect(events.recovered).toHaveLength(0);
  });

  it('a delayer whose loop keeps failing (its delay stream is not a stream) is stalled, and recovers', async () => {
    const delayKey = redstream.keys.delayStream('products');
    await admin.set(delayKey, 'not a stream');
    const delayer = redstream.delayer({ stream: 'products', delay: 1, ...fast, blockMs: 200 });
    workers.push(delayer);
    const events = watch(delayer);
    delayer.start();
    await waitFor(() => events.stalled.length > 0);
    expect(delayer.isStalled).toBe(true);
    expect(events.stalled[0].error.message).toMatch(/WRONGTYPE/);

    await admin.del(delayKey);
    await waitFor(() => events.recovered.length > 0);
    expect(delayer.isStalled).toBe(false);
    expect(events.stalled).toHaveLength(1);
    expect(events.recovered).toHaveLength(1);
  });

  it('a group consumer whose handler keeps failing is stalled, and recovers', async () => {
    let failing = true;
    await redstream.producer().queue('products', [{ id: 1 }]);
    const member = redstream.groupConsumer({
      stream: 'products',
      group: 'search',
      ...fast,
      maxDeliveries: 0,
      claimIdleMs: 1_000,
      claimIntervalMs: 1_000,
      handler: () => {
        if (failing) throw new Error('search engine down');
      },
    });
    workers.push(member);
    const events = watch(member);
    member.start();
    await waitFor(() => events.stalled.length > 0);
    expect(member.isStalled).toBe(true);

    failing = false;
    await waitFor(() => events.recovered.length > 0);
    expect(member.isStalled).toBe(false);
    expect(events.stalled).toHaveLength(1);
    expect(events.recovered).toHaveLength(1);
  });

  it('rejects a stalledAfterMs that is not a positive integer, naming the worker', () => {
    expect(() =>
      redstream.consumer({ stream: 'products', name: 'indexer', stalledAfterMs: 0, handler: () => undefined }),
    ).toThrow(new RedstreamConfigError('Consumer products:indexer: stalledAfterMs must be a positive integer, got 0'));
    expect(() =>
      redstream.groupConsumer({ stream: 'products', group: 'search', stalledAfterMs: -1, handler: () => undefined }),
    ).toThrow(RedstreamConfigError);
  });
});
