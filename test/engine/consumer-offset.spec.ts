import {
  Redstream,
  RedstreamConfigError,
  RedstreamConsumerActiveError,
  RedstreamMessage,
  RedstreamOffsetError,
  silentLogger,
} from '../../lib/engine';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

// Redstream.setCommittedOffset: a rewind (or skip) of a stopped offset consumer, refused while
// an instance runs it, and read from when it starts again.

describe('Redstream.setCommittedOffset', () => {
  let redstream: Redstream;
  const fast = { blockMs: 200, lockTtlMs: 1_000, lockRefreshMs: 300, standbyPollMs: 100 };

  beforeEach(() => {
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace(), logger: silentLogger });
  });
  afterEach(() => redstream.close());

  it('rewinds a stopped consumer, which then reads again from there', async () => {
    const ids = await redstream.producer().queue('products', [{ id: 1 }, { id: 2 }, { id: 3 }]);
    const seen: string[] = [];
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      ...fast,
      handler: (messages: RedstreamMessage[]) => void seen.push(...messages.map((message) => message.id)),
    });
    consumer.start();
    await waitFor(() => seen.length === 3);

    // Running: refused, and the offset stays.
    const refused = await redstream.setCommittedOffset('products', 'indexer', ids[0]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RedstreamConsumerActiveError);
    expect((refused as RedstreamConsumerActiveError).owner).toEqual(expect.any(String));
    expect(await redstream.committedOffset('products', 'indexer')).toBe(ids[2]);

    await consumer.stop();
    expect(await redstream.setCommittedOffset('products', 'indexer', ids[0])).toEqual({
      stream: 'products',
      consumer: 'indexer',
      previous: ids[2],
      offset: ids[0],
    });
    consumer.start();
    await waitFor(() => seen.length === 5);
    expect(seen).toEqual([...ids, ids[1], ids[2]]);
    await consumer.stop();
  });

  it('sets the offset of a consumer that never committed, and reports none before', async () => {
    await redstream.producer().queue('products', { id: 1 });
    expect(await redstream.setCommittedOffset('products', 'indexer', '0-0')).toMatchObject({ previous: null });
    expect(await redstream.committedOffset('products', 'indexer')).toBe('0-0');
  });

  it('refuses what the consumer itself would refuse to read from', async () => {
    const [id] = await redstream.producer().queue('products', { id: 1 });
    const [ms] = id.split('-');
    await expect(redstream.setCommittedOffset('products', 'indexer', 'latest')).rejects.toThrow(RedstreamConfigError);
    await expect(redstream.setCommittedOffset('products', 'bad name', '0-0')).rejects.toThrow(RedstreamConfigError);
    await expect(redstream.setCommittedOffset('products', 'indexer', `${Number(ms) + 1}-0`)).rejects.toThrow(
      RedstreamOffsetError,
    );
    expect(await redstream.committedOffset('products', 'indexer')).toBeNull();
  });
});
