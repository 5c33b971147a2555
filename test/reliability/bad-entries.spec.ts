import Redis from 'ioredis';
import { Redstream, RedstreamMessage } from '../../lib/engine';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { RecordingLogger } from '../support/recording-logger';
import { awaitParserBufferPoolShrinkAfterAll } from '../support/parser-buffer-pool';

awaitParserBufferPoolShrinkAfterAll();

// Entries that are not what the library writes: another producer's mistakes, manual XADDs,
// binary garbage. The promise: bad entries are logged and skipped, the good ones around them
// are handled in order, and the offset moves past all of them (nothing stalls the stream).
describe('bad stream entries', () => {
  let redis: Redis;
  let redstream: Redstream;
  let logger: RecordingLogger;

  beforeEach(() => {
    redis = connectTestRedis();
    logger = new RecordingLogger();
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace('bad'), logger });
  });

  afterEach(async () => {
    await redstream.close();
    redis.disconnect();
  });

  it('skips and logs unparsable entries, handles the good ones around them in order', async () => {
    const key = redstream.keys.stream('products');
    const fiveMegabytes = 'x'.repeat(5 * 1024 * 1024);
    const good1 = await redis.xadd(key, '*', 'payload', JSON.stringify({ id: 1 }));
    const noPayload = await redis.xadd(key, '*', 'body', '{"id":2}');
    const invalidJson = await redis.xadd(key, '*', 'payload', '{id: 3');
    const array = await redis.xadd(key, '*', 'payload', '[1,2,3]');
    const number = await redis.xadd(key, '*', 'payload', '42');
    const jsonNull = await redis.xadd(key, '*', 'payload', 'null');
    const binary = await redis.xadd(key, '*', 'payload', Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x7b]));
    const large = await redis.xadd(key, '*', 'payload', JSON.stringify({ id: 4, blob: fiveMegabytes }));
    // What the gem's Producer writes (`JSON.dump(object.redstream_payload)`), byte for byte.
    const gem = await redis.xadd(key, '*', 'payload', '{"id":5}');
    const good6 = await redis.xadd(key, '*', 'payload', JSON.stringify({ id: 6 }));
    const bad = [noPayload, invalidJson, array, number, jsonNull, binary];

    const handled: RedstreamMessage[] = [];
    const rejected: string[] = [];
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      batchSize: 3,
      blockMs: 500,
      handler: (messages) => void handled.push(...messages),
    });
    consumer.on('rejected', (entries) => rejected.push(...entries.map((entry) => entry.id)));
    consumer.start();
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === good6, 15_000);
    await consumer.stop();

    expect(handled.map((message) => message.payload.id)).toEqual([1, 4, 5, 6]);
    expect(handled.map((message) => message.id)).toEqual([good1, large, gem, good6]);
    expect((handled[1].payload.blob as string).length).toBe(fiveMegabytes.length);
    expect(handled[2].fields).toEqual({ payload: '{"id":5}' });
    expect(rejected).toEqual(bad);
    for (const id of bad) expect(logger.matching('warn', new RegExp(`skipping entry ${id}`))).toHaveLength(1);
    expect(logger.matching('warn', /no "payload" field/)).toHaveLength(1);
    expect(logger.matching('warn', /not JSON/).length).toBe(2);
    expect(logger.matching('warn', /JSON but not an object/)).toHaveLength(3);
  });

  it('commits past a batch in which every entry is bad', async () => {
    const key = redstream.keys.stream('orders');
    const bad = await redis.xadd(key, '*', 'payload', 'not json');
    const handled: string[] = [];
    const consumer = redstream.consumer({
      stream: 'orders',
      name: 'mailer',
      blockMs: 300,
      handler: (messages) => void handled.push(...messages.map((message) => message.id)),
    });
    consumer.start();
    await waitFor(async () => (await redstream.committedOffset('orders', 'mailer')) === bad);
    const good = await redstream.producer().queue('orders', { id: 1 });
    await waitFor(() => handled.length === 1);
    await consumer.stop();
    expect(handled).toEqual(good);
  });

  it('keeps the Delayer going past delay entries without a payload or with garbage', async () => {
    const delayKey = redstream.keys.delayStream('products');
    await redis.xadd(delayKey, '*', 'other', 'field');
    await redis.xadd(delayKey, '*', 'payload', '{broken');
    await redis.xadd(delayKey, '*', 'payload', JSON.stringify({ id: 7 }));
    const handled: unknown[] = [];
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      blockMs: 300,
      handler: (messages) => void handled.push(...messages.map((message) => message.payload.id)),
    });
    const delayer = redstream.delayer({ stream: 'products', delay: 1, blockMs: 300 });
    consumer.start();
    delayer.start();
    await waitFor(() => handled.length === 1);
    await waitFor(async () => (await redstream.delayStreamLength('products')) === 0);
    await Promise.all([consumer.stop(), delayer.stop()]);

    expect(handled).toEqual([7]);
    expect(logger.matching('warn', /dropping delay entry .*no "payload"/)).toHaveLength(1);
    // The garbage is re-queued as it was (the Delayer does not judge payloads); the consumer skips it.
    expect(logger.matching('warn', /skipping entry .*not JSON/)).toHaveLength(1);
  });
});
