import Redis from 'ioredis';
import {
  Producer,
  Redstream,
  RedstreamConfigError,
  RedstreamError,
  RedstreamPayload,
  RedstreamReplicationError,
  RedstreamTimeoutError,
  silentLogger,
} from '../../lib/engine';
import { freePort, startRedisServer } from '../support/redis-server';
import { CommandProxy, startCommandProxy } from '../support/command-proxy';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

describe('Producer', () => {
  let namespace: string;
  let redstream: Redstream;
  let producer: Producer;
  let admin: Redis;
  const streamKey = (): string => `${namespace}:redstream:stream:products`;
  const delayKey = (): string => `${namespace}:redstream:stream:products.delay`;
  const entries = async (key: string): Promise<{ id: string; payload: unknown }[]> =>
    (await admin.xrange(key, '-', '+')).map(([id, fields]) => {
      expect(fields).toHaveLength(2);
      expect(fields[0]).toBe('payload');
      return { id, payload: JSON.parse(fields[1]) };
    });

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    producer = redstream.producer();
  });
  afterEach(async () => {
    await redstream.close();
    await admin.quit();
  });

  it('queues a single payload and an array, in order, and resolves with their ids', async () => {
    const [first] = await producer.queue('products', { id: 1 });
    const rest = await producer.queue('products', [{ id: 2 }, { id: 3 }, { id: 4 }]);
    expect(rest).toHaveLength(3);
    expect(await entries(streamKey())).toEqual([
      { id: first, payload: { id: 1 } },
      { id: rest[0], payload: { id: 2 } },
      { id: rest[1], payload: { id: 3 } },
      { id: rest[2], payload: { id: 4 } },
    ]);
    expect(await admin.exists(delayKey())).toBe(0);
  });

  it('accepts payloads typed with an interface, not only records', async () => {
    interface ProductRef {
      id: number;
      sku: string;
    }
    const ref: ProductRef = { id: 7, sku: 'A-7' };
    const refs: ProductRef[] = [ref, { id: 8, sku: 'A-8' }];
    await producer.queue('products', ref);
    await producer.bulk('products', refs, () => undefined);
    expect((await entries(streamKey())).map((entry) => entry.payload)).toEqual([ref, ...refs]);
  });

  it('writes delay messages to the delay stream and resolves with their ids', async () => {
    const ids = await producer.delay('products', [{ id: 1 }, { id: 2 }]);
    expect(await entries(delayKey())).toEqual([
      { id: ids[0], payload: { id: 1 } },
      { id: ids[1], payload: { id: 2 } },
    ]);
    expect(await admin.exists(streamKey())).toBe(0);
  });

  it('resolves with an empty list for an empty array and writes nothing', async () => {
    expect(await producer.queue('products', [])).toEqual([]);
    expect(await producer.delay('products', [])).toEqual([]);
    expect(await admin.exists(streamKey(), delayKey())).toBe(0);
  });

  it.each([
    ['a number', 5],
    ['a string', 'id-1'],
    ['null', null],
    ['an array inside the array', [[{ id: 1 }]]],
    ['one bad element among good ones', [{ id: 1 }, 7, { id: 3 }]],
  ])('rejects %s as payload with RedstreamConfigError and writes nothing', async (_label, payload) => {
    await expectPayloadRejected(payload);
  });

  it('rejects an object whose JSON is not an object (a Date), which every consumer would skip', async () => {
    await expectPayloadRejected(new Date(0));
    await expectPayloadRejected({ toJSON: () => [1, 2] });
  });

  async function expectPayloadRejected(payload: unknown): Promise<void> {
    const bad = payload as RedstreamPayload;
    await expect(producer.queue('products', bad)).rejects.toThrow(RedstreamConfigError);
    await expect(producer.delay('products', bad)).rejects.toThrow(/payload must be a JSON object/);
    await expect(producer.bulk('products', [bad], () => 'written')).rejects.toThrow(RedstreamConfigError);
    expect(await admin.exists(streamKey(), delayKey())).toBe(0);
  }

  describe('payloads that would not come back as written', () => {
    const circular = (): object => {
      const product: Record<string, unknown> = { id: 1, variants: [] };
      (product.variants as unknown[]).push({ parent: product });
      return product;
    };
    const nested = (levels: number): object => {
      const root: Record<string, unknown> = {};
      let level = root;
      for (let i = 1; i < levels; i++) level = (level.child = {}) as Record<string, unknown>;
      return root;
    };

    it.each<[string, () => unknown, RegExp]>([
      ['undefined in an object', () => ({ id: undefined }), /payload\.id is undefined, which JSON leaves out/],
      [
        'undefined in an array',
        () => ({ ids: [1, undefined] }),
        /payload\.ids\[1\] is undefined, which JSON writes as null/,
      ],
      ['a BigInt', () => ({ id: 12345678901234567890n }), /payload\.id is a BigInt/],
      [
        'a BigInt deep inside',
        () => ({ order: { 'line-items': [{ qty: 1n }] } }),
        /payload\.order\["line-items"\]\[0\]\.qty is a BigInt/,
      ],
      [
        'a circular reference',
        circular,
        /payload\.variants\[0\]\.parent refers back to payload \(a circular reference\)/,
      ],
      ['a function', () => ({ id: 1, reload: () => undefined }), /payload\.reload is a function/],
      ['a symbol', () => ({ id: Symbol('id') }), /payload\.id is a symbol/],
      ['NaN', () => ({ price: NaN }), /payload\.price is NaN, which JSON writes as null/],
      ['Infinity in an array', () => ({ prices: [1, -Infinity] }), /payload\.prices\[1\] is -Infinity/],
      ['an invalid Date', () => ({ at: new Date('not a date') }), /payload\.at is an invalid Date/],
      ['a Map', () => ({ tags: new Map([['a', 1]]) }), /payload\.tags is a Map, which JSON writes as \{\}/],
      ['101 levels of nesting', () => nested(101), /nests deeper than 100 levels/],
      ['10,000 levels of nesting', () => nested(10_000), /nests deeper than 100 levels/],
      [
        'a toJSON() that throws',
        () => ({
          id: {
            toJSON: () => {
              throw new Error('boom');
            },
          },
        }),
        /cannot be written as JSON: boom/,
      ],
    ])('rejects %s with RedstreamConfigError naming the field, and writes nothing', async (_label, make, message) => {
      const payload = make() as RedstreamPayload;
      for (const call of [
        () => producer.queue('products', payload),
        () => producer.delay('products', payload),
        () => producer.queueAfterDelay('products', payload, []),
      ]) {
        const error = (await call().catch((caught: unknown) => caught)) as Error;
        expect(error).toBeInstanceOf(RedstreamConfigError);
        expect(error.message).toMatch(message);
        expect(error.message).toMatch(/^Producer\.(queue|delay|queueAfterDelay)\(products\): /);
      }
      const written = jest.fn();
      await expect(producer.bulk('products', [{ id: 1 }, payload], written)).rejects.toThrow(
        /^Producer\.bulk\(products\): payloads\[1\]/,
      );
      expect(written).not.toHaveBeenCalled();
      expect(await admin.exists(streamKey(), delayKey())).toBe(0);
    });

    it('names the payload of an array by its index and writes none of the array', async () => {
      await expect(producer.queue('products', [{ id: 1 }, { id: 2 }, { id: undefined }])).rejects.toThrow(
        'Producer.queue(products): payloads[2].id is undefined',
      );
      expect(await admin.exists(streamKey())).toBe(0);
    });

    it('converts as JSON does: Dates to ISO strings, toJSON() results, class instances to their fields', async () => {
      class Price {
        constructor(
          readonly amount: number,
          readonly currency: string,
        ) {}
        get label(): string {
          return `${this.amount} ${this.currency}`;
        }
      }
      const at = new Date('2024-05-01T12:00:00.000Z');
      await producer.queue('products', {
        id: 1,
        updatedAt: at,
        history: [{ at }],
        price: new Price(5, 'EUR'),
        sku: { toJSON: () => 'A-1' },
      });
      expect((await entries(streamKey()))[0].payload).toEqual({
        id: 1,
        updatedAt: '2024-05-01T12:00:00.000Z',
        history: [{ at: '2024-05-01T12:00:00.000Z' }],
        price: { amount: 5, currency: 'EUR' },
        sku: 'A-1',
      });
    });

    it('accepts 100 levels of nesting (what Ruby JSON.parse reads) and nulls, and keeps them as written', async () => {
      const payload = { ...nested(100), id: 1, deleted: null, flags: [true, false] };
      await producer.queue('products', payload);
      expect((await entries(streamKey()))[0].payload).toEqual(payload);
    });
  });

  it('writes arrays larger than the slice size completely and in order', async () => {
    const sliced = redstream.producer({ sliceSize: 10 });
    const payloads = Array.from({ length: 47 }, (_, index) => ({ id: index }));
    const delayIds = await sliced.delay('products', payloads);
    const ids = await sliced.queue('products', payloads, { delayMessageIds: delayIds });
    expect(ids).toHaveLength(47);
    expect(new Set(ids).size).toBe(47);
    const written = await entries(streamKey());
    expect(written.map((entry) => entry.payload)).toEqual(payloads);
    expect(written.map((entry) => entry.id)).toEqual(ids);
    expect(await admin.xlen(delayKey())).toBe(0);
  });

  it('writes an array of 600 with the default slice size', async () => {
    const payloads = Array.from({ length: 600 }, (_, index) => ({ id: index }));
    const ids = await producer.queue('products', payloads);
    expect(ids).toHaveLength(600);
    expect((await entries(streamKey())).map((entry) => entry.payload)).toEqual(payloads);
  });

  describe('round trips (through a counting TCP proxy)', () => {
    let proxy: CommandProxy;
    let proxied: Redstream;
    beforeEach(async () => {
      proxy = await startCommandProxy(Number(new URL(testRedisUrl()).port));
      proxied = new Redstream({ redis: proxy.url, namespace, logger: silentLogger });
      await proxied.producer().queue('warm-up', { id: 0 }); // connection set-up is not what is counted
      proxy.resetCounters();
    });
    afterEach(async () => {
      await proxied.close();
      await proxy.close();
    });

    it('deletes delay messages in the same round trip as the queue write', async () => {
      const delayIds = await proxied.producer().delay('products', [{ id: 1 }, { id: 2 }]);
      proxy.resetCounters();
      await proxied.producer().queue('products', [{ id: 1 }, { id: 2 }], { delayMessageIds: delayIds });
      expect(proxy.requestChunks).toBe(1);
      expect(await admin.xlen(delayKey())).toBe(0);
      expect(await admin.xlen(streamKey())).toBe(2);
    });

    it('queueAfterDelay deletes the delay messages in the same round trip with deleteDelayMessagesOnQueue', async () => {
      const deleting = new Redstream({ redis: proxy.url, namespace, logger: silentLogger });
      try {
        const writer = deleting.producer({ deleteDelayMessagesOnQueue: true });
        const delayIds = await writer.delay('products', [{ id: 1 }, { id: 2 }]);
        proxy.resetCounters();
        const ids = await writer.queueAfterDelay('products', [{ id: 1 }, { id: 2 }], delayIds);
        expect(proxy.requestChunks).toBe(1);
        expect(ids).toHaveLength(2);
        expect(await admin.xlen(delayKey())).toBe(0);
        expect((await entries(streamKey())).map((entry) => entry.id)).toEqual(ids);
      } finally {
        await deleting.close();
      }
    });

    it('batches many concurrent single queue calls into few round trips', async () => {
      const calls = 1_000;
      const writer = proxied.producer();
      const ids = await Promise.all(
        Array.from({ length: calls }, (_, index) => writer.queue('products', { id: index })),
      );
      // One write per call would be 1000 chunks; batched, it is a handful.
      expect(proxy.requestChunks).toBeLessThanOrEqual(12);
      const written = await entries(streamKey());
      expect(written.map((entry) => entry.payload)).toEqual(
        Array.from({ length: calls }, (_, index) => ({ id: index })),
      );
      expect(written.map((entry) => entry.id)).toEqual(ids.flat());
    });
  });

  describe('bulk', () => {
    it('writes delay messages, runs the write, then the immediate messages; delay messages stay', async () => {
      const payloads = [{ id: 1 }, { id: 2 }];
      const result = await producer.bulk('products', payloads, async () => {
        // During the database write: delay messages exist, immediate ones not yet.
        expect((await entries(delayKey())).map((entry) => entry.payload)).toEqual(payloads);
        expect(await admin.exists(streamKey())).toBe(0);
        return 'updated 2 rows';
      });
      expect(result).toBe('updated 2 rows');
      expect((await entries(streamKey())).map((entry) => entry.payload)).toEqual(payloads);
      expect(await admin.xlen(delayKey())).toBe(2);
    });

    it('deletes its delay messages once queued with deleteDelayMessagesOnQueue', async () => {
      const deleting = redstream.producer({ deleteDelayMessagesOnQueue: true });
      await producer.delay('products', { id: 99 }); // someone else's delay message stays
      await deleting.bulk('products', [{ id: 1 }, { id: 2 }], () => undefined);
      expect((await entries(delayKey())).map((entry) => entry.payload)).toEqual([{ id: 99 }]);
      expect(await admin.xlen(streamKey())).toBe(2);
    });

    it('queueAfterDelay leaves the delay messages for the Delayer by default', async () => {
      const delayIds = await producer.delay('products', [{ id: 1 }, { id: 2 }]);
      const ids = await producer.queueAfterDelay('products', [{ id: 1 }, { id: 2 }], delayIds);
      expect((await entries(streamKey())).map((entry) => entry.id)).toEqual(ids);
      expect((await entries(delayKey())).map((entry) => entry.id)).toEqual(delayIds);
    });

    it('queue() with delayMessageIds deletes them whatever deleteDelayMessagesOnQueue says', async () => {
      const delayIds = await producer.delay('products', [{ id: 1 }, { id: 2 }]);
      await producer.queue('products', { id: 1 }, { delayMessageIds: [delayIds[0]] });
      expect((await entries(delayKey())).map((entry) => entry.id)).toEqual([delayIds[1]]);
    });

    it('encodes the payloads again after write(), so changes it made show in the immediate messages', async () => {
      const product = { id: 1, featured: false };
      await producer.bulk('products', [product], () => {
        product.featured = true;
      });
      expect((await entries(delayKey()))[0].payload).toEqual({ id: 1, featured: false });
      expect((await entries(streamKey()))[0].payload).toEqual({ id: 1, featured: true });
    });

    it('writes no immediate message when the write throws; the delay messages stay and the error propagates', async () => {
      const failure = new Error('transaction rolled back');
      const deleting = redstream.producer({ deleteDelayMessagesOnQueue: true });
      await expect(
        deleting.bulk('products', [{ id: 1 }, { id: 2 }], async () => {
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await admin.exists(streamKey())).toBe(0);
      expect((await entries(delayKey())).map((entry) => entry.payload)).toEqual([{ id: 1 }, { id: 2 }]);
    });
  });

  it('rejects with RedstreamReplicationError when WAIT finds no replica, after writing the delay messages', async () => {
    const waiting = redstream.producer({ wait: { replicas: 1, timeoutMs: 100 } });
    const started = Date.now();
    const error = (await waiting.delay('products', [{ id: 1 }]).catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(RedstreamReplicationError);
    expect(error).toMatchObject({ expectedReplicas: 1, acknowledgedReplicas: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(await admin.xlen(delayKey())).toBe(1);
    // Immediate messages are not waited for, as in the gem.
    await expect(waiting.queue('products', { id: 1 })).resolves.toHaveLength(1);
  });

  describe('with Redis down', () => {
    it('completes a write made during a short outage once Redis is back within commandTimeoutMs', async () => {
      let server = await startRedisServer({ args: ['--appendonly', 'yes'] });
      const flaky = new Redstream({ redis: server.url, namespace, logger: silentLogger });
      try {
        const writer = flaky.producer({ commandTimeoutMs: 4_000 });
        await writer.queue('products', { id: 1 });
        const stopping = server.process;
        const restarted = server.restart(1_000);
        await waitFor(() => stopping.exitCode !== null || stopping.signalCode !== null); // down now
        const during = writer.queue('products', { id: 2 });
        server = await restarted;
        await expect(during).resolves.toHaveLength(1);
        const direct = new Redis(server.url);
        const payloads = (await direct.xrange(`${namespace}:redstream:stream:products`, '-', '+')).map(
          ([, fields]) => fields[1],
        );
        await direct.quit();
        expect(payloads).toEqual(['{"id":1}', '{"id":2}']);
      } finally {
        await flaky.close();
        await server.stop();
      }
    });

    it('rejects within commandTimeoutMs with a RedstreamError, never hangs', async () => {
      const down = new Redstream({ redis: `redis://127.0.0.1:${await freePort()}`, namespace, logger: silentLogger });
      try {
        const started = Date.now();
        await expect(down.producer({ commandTimeoutMs: 1_000 }).queue('products', { id: 1 })).rejects.toThrow(
          RedstreamError,
        );
        expect(Date.now() - started).toBeLessThan(2_000);
      } finally {
        await down.close();
      }
    });

    it.each([
      ['a server that stopped', true],
      ['nothing listening at all', false],
    ])('rejects with RedstreamTimeoutError within commandTimeoutMs (%s)', async (_label, wasRunning) => {
      const server = wasRunning ? await startRedisServer() : undefined;
      const url = server?.url ?? `redis://127.0.0.1:${await freePort()}`;
      const down = new Redstream({ redis: url, namespace, logger: silentLogger });
      try {
        const writer = down.producer({ commandTimeoutMs: 1_000 });
        if (server) {
          await writer.queue('products', { id: 1 });
          await server.stop();
        }
        for (const call of [() => writer.queue('products', { id: 2 }), () => writer.delay('products', { id: 3 })]) {
          const started = Date.now();
          await expect(call()).rejects.toThrow(RedstreamTimeoutError);
          const elapsed = Date.now() - started;
          expect(elapsed).toBeGreaterThanOrEqual(950);
          expect(elapsed).toBeLessThan(2_000);
        }
      } finally {
        await down.close();
        await server?.stop();
      }
    });
  });
});
