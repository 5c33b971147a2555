import { Redstream, silentLogger, RedstreamMessage } from '../../lib/engine';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

describe('engine round trip', () => {
  let redstream: Redstream;
  beforeEach(() => {
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace(), logger: silentLogger });
  });
  afterEach(() => redstream.close());

  it('queues, consumes in order, delays and trims', async () => {
    const producer = redstream.producer();
    const seen: RedstreamMessage[] = [];
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      batchSize: 3,
      handler: (m) => void seen.push(...m),
    });
    consumer.start();
    await producer.queue('products', [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
    await waitFor(() => seen.length === 4);
    expect(seen.map((m) => m.payload.id)).toEqual([1, 2, 3, 4]);

    const delayer = redstream.delayer({ stream: 'products', delay: 200 });
    delayer.start();
    await producer.delay('products', { id: 5 });
    await waitFor(() => seen.length === 5, 5000);
    expect(seen[4].payload).toEqual({ id: 5 });

    const trimmer = redstream.trimmer({ stream: 'products' });
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === seen[4].id);
    const result = await trimmer.trimOnce();
    expect(result.trimmed).toBe(5);
    await Promise.all([consumer.stop(), delayer.stop(), trimmer.stop()]);
  });
});
