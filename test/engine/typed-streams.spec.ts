import type Redis from 'ioredis';
import {
  defineStream,
  Redstream,
  RedstreamConfigError,
  RedstreamMessage,
  RedstreamValidationError,
} from '../../lib/engine';
import { RecordingLogger } from '../support/recording-logger';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

interface Product {
  id: number;
  /** Added by parse: the handler gets what parse returned, not the raw JSON. */
  checked: true;
}

/** A hand-written check, as zod's `schema.parse` or valibot's `parse` would be. */
function parseProduct(payload: unknown): Product {
  const id = (payload as { id?: unknown }).id;
  if (typeof id !== 'number' || !Number.isInteger(id)) throw new TypeError(`id must be an integer, got ${String(id)}`);
  return { id, checked: true };
}

const Products = defineStream('products', { parse: parseProduct });
const Untyped = defineStream<{ id: number }>('products');

describe('typed streams (defineStream)', () => {
  let redstream: Redstream;
  let logger: RecordingLogger;
  let redis: Redis;

  beforeEach(() => {
    logger = new RecordingLogger();
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace(), logger });
    redis = connectTestRedis();
  });
  afterEach(async () => {
    await redstream.close();
    redis.disconnect();
  });

  /** Writes entries as another producer might: valid ones, one parse refuses, one that is not JSON. */
  async function writeMixed(): Promise<{ good: string[]; invalid: string; notJson: string }> {
    const producer = redstream.producer();
    // By name: the Producer does not check, as a Ruby producer would not.
    const [first] = await producer.queue('products', { id: 1 });
    const [invalid] = await producer.queue('products', { id: 'two' });
    const notJson = (await redis.xadd(redstream.keys.stream('products'), '*', 'payload', '{oops')) as string;
    const [last] = await producer.queue('products', { id: 3 });
    return { good: [first, last], invalid, notJson };
  }

  it('defines a stream by name, validates the name and the parse option', () => {
    expect(Products.name).toBe('products');
    expect(Object.isFrozen(Products)).toBe(true);
    expect(Untyped.parse).toBeUndefined();
    expect(() => defineStream('bad name')).toThrow(RedstreamConfigError);
    expect(() => defineStream('products', { parse: 'no' as unknown as () => object })).toThrow(
      /parse must be a function/,
    );
  });

  it('the Producer writes payloads that pass parse as given, and rejects a call with a failing one before writing', async () => {
    const producer = redstream.producer();
    const ids = await producer.queue(Products, [{ id: 1 }, { id: 2 }] as Product[]);
    expect(ids).toHaveLength(2);
    // Written as given (parse's result, with `checked`, is what consumers get).
    const entries = await redis.xrange(redstream.keys.stream('products'), '-', '+');
    expect(entries.map(([, fields]) => fields)).toEqual([
      ['payload', '{"id":1}'],
      ['payload', '{"id":2}'],
    ]);

    const bad = [{ id: 3 }, { id: 'four' }] as unknown as Product[];
    const error = await producer.queue(Products, bad).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedstreamValidationError);
    expect(error).toBeInstanceOf(RedstreamConfigError);
    expect(error).toMatchObject({ stream: 'products', index: 1 });
    expect((error as Error).message).toBe(
      "Producer.queue(products): payloads[1] failed the stream's parse: id must be an integer, got four; nothing was written",
    );
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    await expect(producer.delay(Products, { id: 'x' } as unknown as Product)).rejects.toThrow(
      "Producer.delay(products): the payload failed the stream's parse",
    );
    await expect(producer.queueAfterDelay(Products, [bad[1]], [])).rejects.toThrow(RedstreamValidationError);
    let wrote = false;
    await expect(
      producer.bulk(Products, bad, () => {
        wrote = true;
      }),
    ).rejects.toThrow(RedstreamValidationError);
    expect(wrote).toBe(false);
    // Nothing of the failed calls reached Redis.
    expect(await redstream.streamLength('products')).toBe(2);
    expect(await redstream.delayStreamLength('products')).toBe(0);

    // A definition without parse is a name with a type: nothing is checked at run time.
    await producer.queue(Untyped, { id: 'unchecked' } as unknown as { id: number });
    expect(await redstream.streamLength('products')).toBe(3);
  });

  it('a consumer hands the handler what parse returned and passes over entries parse refuses, like bad entries', async () => {
    const { good, invalid, notJson } = await writeMixed();
    const handled: RedstreamMessage<Product>[] = [];
    const rejected: { id: string; reason: string }[] = [];
    const consumer = redstream.consumer({
      stream: Products,
      name: 'indexer',
      blockMs: 200,
      handler: (messages) => {
        handled.push(...messages);
      },
    });
    consumer.on('rejected', (entries) => rejected.push(...entries));
    const deadLettered: unknown[] = [];
    consumer.on('deadLettered', (entries) => deadLettered.push(...entries));
    consumer.start();
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === good[1]);
    await consumer.stop();

    expect(handled.map((message) => [message.id, message.payload])).toEqual([
      [good[0], { id: 1, checked: true }],
      [good[1], { id: 3, checked: true }],
    ]);
    expect(rejected.map(({ id, reason }) => ({ id, reason }))).toEqual([
      { id: invalid, reason: '"payload" failed validation: id must be an integer, got two' },
      { id: notJson, reason: expect.stringMatching(/^"payload" is not JSON/) },
    ]);
    expect(logger.matching('warn', new RegExp(`skipping entry ${invalid}: "payload" failed validation`))).toHaveLength(
      1,
    );
    // Dead letters are off: nothing set aside.
    expect(deadLettered).toEqual([]);
    expect((await redstream.deadLetters('products')).deadLetters).toEqual([]);
  });

  it('a consumer with deadLetter moves entries parse refuses to <stream>.dead, not entries that are not JSON', async () => {
    const { good, invalid } = await writeMixed();
    const handled: number[] = [];
    const consumer = redstream.consumer({
      stream: Products,
      name: 'indexer',
      blockMs: 200,
      deadLetter: { afterAttempts: 3 },
      handler: (messages) => {
        handled.push(...messages.map((message) => message.payload.id));
      },
    });
    const deadLettered: { id: string; deadLetterId: string; error: string }[] = [];
    consumer.on('deadLettered', (entries) => deadLettered.push(...entries));
    consumer.start();
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === good[1]);
    await consumer.stop();

    expect(handled).toEqual([1, 3]);
    expect(deadLettered.map(({ id, error }) => ({ id, error }))).toEqual([
      { id: invalid, error: 'TypeError: id must be an integer, got two' },
    ]);
    const { deadLetters } = await redstream.deadLetters('products');
    expect(deadLetters.map((d) => [d.originalId, d.payload, d.consumer, d.deliveries, d.error])).toEqual([
      [invalid, '{"id":"two"}', 'indexer', 0, 'TypeError: id must be an integer, got two'],
    ]);
    expect(logger.matching('warn', /moved 1 entry whose payload failed validation to products\.dead/)).toHaveLength(1);
  });

  it('a group consumer moves entries parse refuses to <stream>.dead (acked), and acks them with maxDeliveries 0', async () => {
    const { good, invalid, notJson } = await writeMixed();
    const handled: Product[] = [];
    const group = redstream.groupConsumer({
      stream: Products,
      group: 'indexers',
      blockMs: 200,
      handler: (messages) => {
        handled.push(...messages.map((message) => message.payload));
      },
    });
    const rejected: string[] = [];
    const deadLettered: { id: string; deliveries: number }[] = [];
    group.on('rejected', (entries) => rejected.push(...entries.map(({ id }) => id)));
    group.on('deadLettered', (entries) => deadLettered.push(...entries));
    group.start();
    await waitFor(() => handled.length === 2 && deadLettered.length === 1);
    await waitFor(async () => (await redstream.groupInfo('products', 'indexers'))?.pending === 0);
    await group.stop();

    expect(handled).toEqual([
      { id: 1, checked: true },
      { id: 3, checked: true },
    ]);
    expect(rejected).toEqual([invalid, notJson]);
    expect(deadLettered).toMatchObject([{ id: invalid, deliveries: 1 }]);
    const { deadLetters } = await redstream.deadLetters('products');
    expect(deadLetters.map((d) => [d.originalId, d.group, d.error])).toEqual([
      [invalid, 'indexers', 'TypeError: id must be an integer, got two'],
    ]);
    expect(good).toHaveLength(2);

    // maxDeliveries 0 never dead-letters: the refused entry is acknowledged and logged.
    const second = redstream.groupConsumer({
      stream: Products,
      group: 'auditors',
      blockMs: 200,
      maxDeliveries: 0,
      handler: () => undefined,
    });
    second.start();
    await waitFor(async () => {
      const info = await redstream.groupInfo('products', 'auditors');
      return info?.lastDeliveredId === good[1] && info.pending === 0;
    });
    await second.stop();
    expect((await redstream.deadLetters('products')).deadLetters).toHaveLength(1);
    expect(logger.matching('warn', new RegExp(`acknowledging entry ${invalid} without handling it`))).toHaveLength(1);
  });

  it('a parse that returns no object rejects the entry', async () => {
    const Broken = defineStream('products', { parse: () => undefined as unknown as object });
    const [id] = await redstream.producer().queue('products', { id: 1 });
    const rejected: string[] = [];
    let calls = 0;
    const consumer = redstream.consumer({
      stream: Broken,
      name: 'indexer',
      blockMs: 200,
      handler: () => {
        calls++;
      },
    });
    consumer.on('rejected', (entries) => rejected.push(...entries.map((entry) => entry.reason)));
    consumer.start();
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === id);
    await consumer.stop();
    expect(calls).toBe(0);
    expect(rejected).toEqual([`"payload" failed validation: the stream's parse returned undefined, not an object`]);
  });

  it('a delayer takes a definition for its stream name', async () => {
    const delayer = redstream.delayer({ stream: Products, delay: 1 });
    expect(delayer.readStream).toBe('products.delay');
  });
});
