import Redis from 'ioredis';
import { Redstream, RedstreamMessage } from '../../lib/engine';
import { BatchSizeLimiter } from '../../lib/engine/batch-size-limiter';
import type { RawStreamEntry } from '../../lib/engine/message-parser';
import { waitFor } from '../support/test-redis';
import { closeTestRedstream, openTestRedstream } from '../support/test-redstream';
import { awaitParserBufferPoolShrinkAfterAll } from '../support/parser-buffer-pool';

awaitParserBufferPoolShrinkAfterAll();

const MB = 1024 * 1024;
/** A payload of about `bytes` characters: `{"n":<n>,"blob":"xxx..."}`. */
const bigPayload = (n: number, bytes: number): string => JSON.stringify({ n, blob: 'x'.repeat(bytes) });
const entriesOf = (count: number, bytes: number): RawStreamEntry[] =>
  Array.from({ length: count }, (_, i) => [`1-${i}`, ['payload', 'x'.repeat(bytes)]]);

describe('BatchSizeLimiter', () => {
  it('starts at 10 (at most batchSize), then asks for what fits at the sizes seen', () => {
    const limiter = new BatchSizeLimiter(1000, 8 * MB);
    const counts = [limiter.nextCount()];
    for (let i = 0; i < 2; i++) {
      limiter.record(entriesOf(limiter.nextCount(), 100));
      counts.push(limiter.nextCount());
    }
    expect(counts).toEqual([10, 1000, 1000]);
    limiter.record(entriesOf(3, 100_000));
    expect(limiter.nextCount()).toBe(83);
    expect(new BatchSizeLimiter(3, 8 * MB).nextCount()).toBe(3);
  });

  it('shrinks the count to what fits into maxBytes, never below 1, and starts small again after reset()', () => {
    const limiter = new BatchSizeLimiter(1000, 8 * MB);
    limiter.record(entriesOf(10, 100));
    expect(limiter.nextCount()).toBe(1000);
    limiter.record(entriesOf(2, MB));
    expect(limiter.nextCount()).toBe(7);
    limiter.record(entriesOf(1, 20 * MB));
    expect(limiter.nextCount()).toBe(1);
    limiter.record([]);
    limiter.record(null);
    expect(limiter.nextCount()).toBe(1);
    limiter.reset();
    expect(limiter.nextCount()).toBe(10);
  });
});

// Issue 14: batches bounded by count only read 1000 entries of 2 MB at once (RSS +3 GB, the
// event loop blocked past the lock's ttl, nothing ever handled), and the Delayer built one
// EVALSHA out of 1000 payloads of 0.6 MB (RangeError: Invalid string length, the process
// exited). Scaled down here; `npm run soak:large` runs the full sizes.
describe('large entries', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const workers: { stop(): Promise<void> }[] = [];
  const streamKey = (stream = 'products'): string => `${namespace}:redstream:stream:${stream}`;

  beforeEach(() => {
    ({ namespace, redstream, admin } = openTestRedstream());
  });
  afterEach(() => closeTestRedstream({ redstream, admin }, workers));

  const writeBig = async (key: string, count: number, bytes: number, from = 0): Promise<void> => {
    for (let i = from; i < from + count; i++) await admin.xadd(key, '*', 'payload', bigPayload(i, bytes));
  };

  it('hands over batches of about maxBatchBytes, every entry once and in order', async () => {
    await writeBig(streamKey(), 60, 256 * 1024);
    const batches: number[][] = [];
    const consumer = redstream.consumer<{ n: number }>({
      stream: 'products',
      name: 'indexer',
      maxBatchBytes: MB,
      handler: (messages) => {
        batches.push(messages.map((message) => message.payload.n));
      },
    });
    workers.push(consumer);
    consumer.start();
    await waitFor(() => batches.flat().length === 60, 20_000);
    expect(batches.flat()).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // The first read after activation asks for 10; after that about 1 MB, i.e. 4 entries.
    expect(batches[0].length).toBeLessThanOrEqual(10);
    for (const batch of batches.slice(1)) expect(batch.length).toBeLessThanOrEqual(4);
  });

  it("bounds a group consumer's batches by maxBatchBytes too", async () => {
    await writeBig(streamKey(), 40, 256 * 1024);
    const batches: number[][] = [];
    const member = redstream.groupConsumer<{ n: number }>({
      stream: 'products',
      group: 'indexers',
      maxBatchBytes: MB,
      handler: (messages) => {
        batches.push(messages.map((message) => message.payload.n));
      },
    });
    workers.push(member);
    member.start();
    await waitFor(() => batches.flat().length === 40, 20_000);
    expect(batches.flat()).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(batches[0].length).toBeLessThanOrEqual(10);
    for (const batch of batches.slice(1)) expect(batch.length).toBeLessThanOrEqual(4);
  });

  it('shrinks after large entries, and grows back to batchSize for small entries', async () => {
    await writeBig(streamKey(), 3, 2 * MB);
    for (let i = 3; i < 2003; i++) await admin.xadd(streamKey(), '*', 'payload', JSON.stringify({ n: i }));
    const batches: RedstreamMessage<{ n: number }>[][] = [];
    const consumer = redstream.consumer<{ n: number }>({
      stream: 'products',
      name: 'indexer',
      maxBatchBytes: MB,
      handler: (messages) => {
        batches.push(messages);
      },
    });
    workers.push(consumer);
    consumer.start();
    await waitFor(() => batches.flat().length === 2003, 20_000);
    expect(batches.flat().map((message) => message.payload.n)).toEqual(Array.from({ length: 2003 }, (_, i) => i));
    expect(batches[0]).toHaveLength(10); // the first read asks for 10: 6 MB in all
    expect(batches[1]).toHaveLength(1); // 0.6 MB per entry seen: one entry per read, then 1000
    expect(Math.max(...batches.map((batch) => batch.length))).toBe(1000);
  });

  it('passes an entry larger than maxBatchBytes alone', async () => {
    await writeBig(streamKey(), 4, 3 * MB);
    const batches: number[][] = [];
    const consumer = redstream.consumer<{ n: number }>({
      stream: 'products',
      name: 'indexer',
      maxBatchBytes: MB,
      batchSize: 1,
      handler: (messages) => {
        batches.push(messages.map((message) => message.payload.n));
      },
    });
    workers.push(consumer);
    consumer.start();
    await waitFor(() => batches.length === 4, 20_000);
    expect(batches).toEqual([[0], [1], [2], [3]]);
  });

  it('the Delayer re-queues many large due entries in bounded steps, and onDue sees them all', async () => {
    const delayKey = `${namespace}:redstream:stream:products.delay`;
    await writeBig(delayKey, 40, 600 * 1024);
    const seen: number[] = [];
    const delayer = redstream.delayer({
      stream: 'products',
      delay: 1,
      maxBatchBytes: 2 * MB,
      onDue: (messages) => seen.push(...messages.map((message) => (message.payload as { n: number }).n)),
    });
    workers.push(delayer);
    delayer.start();
    await waitFor(async () => (await admin.xlen(streamKey())) === 40, 30_000);
    expect(await admin.xlen(delayKey)).toBe(0);
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const queued = await admin.xrange(streamKey(), '-', '+');
    expect(queued.map(([, fields]) => (JSON.parse(fields[1]) as { n: number }).n)).toEqual(seen);
    expect(queued[0][1][1]).toBe(bigPayload(0, 600 * 1024));
  });

  it('the Delayer deletes a delay entry without a payload field without re-queueing it', async () => {
    const delayKey = `${namespace}:redstream:stream:products.delay`;
    await admin.xadd(delayKey, '*', 'payload', '{"n":0}');
    await admin.xadd(delayKey, '*', 'other', 'field');
    await admin.xadd(delayKey, '*', 'payload', '{"n":2}');
    const delayer = redstream.delayer({ stream: 'products', delay: 1 });
    workers.push(delayer);
    delayer.start();
    await waitFor(async () => (await admin.xlen(delayKey)) === 0, 10_000);
    expect((await admin.xrange(streamKey(), '-', '+')).map(([, fields]) => fields)).toEqual([
      ['payload', '{"n":0}'],
      ['payload', '{"n":2}'],
    ]);
  });
});
