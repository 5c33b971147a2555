import Redis from 'ioredis';
import { Redstream, RedstreamConfigError, silentLogger } from '../../lib/engine';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

describe('Trimmer on a stream with consumer groups', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const streamKey = (): string => `${namespace}:redstream:stream:products`;
  const queue = (count: number): Promise<string[]> =>
    redstream.producer().queue(
      'products',
      Array.from({ length: count }, (_, n) => ({ n })),
    );
  const remaining = async (): Promise<string[]> => (await admin.xrange(streamKey(), '-', '+')).map(([id]) => id);
  const commitOffset = async (name: string, offset: string): Promise<void> => {
    await admin.sadd(`${namespace}:redstream:consumers:products`, name);
    await admin.set(`${namespace}:redstream:offset:products:${name}`, offset);
  };

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
  });
  afterEach(async () => {
    await redstream.close();
    await admin.quit();
  });

  it("keeps every group's pending and undelivered entries, on a stream shared with an offset consumer", async () => {
    const ids = await queue(10);
    await admin.xgroup('CREATE', streamKey(), 'indexers', '0');
    await admin.xgroup('CREATE', streamKey(), 'auditors', '0');
    // indexers: 6 delivered, the first 3 acked, 3 pending; auditors: 8 delivered and acked.
    await admin.xreadgroup('GROUP', 'indexers', 'm1', 'COUNT', 6, 'STREAMS', streamKey(), '>');
    await admin.xack(streamKey(), 'indexers', ...ids.slice(0, 3));
    await admin.xreadgroup('GROUP', 'auditors', 'm1', 'COUNT', 8, 'STREAMS', streamKey(), '>');
    await admin.xack(streamKey(), 'auditors', ...ids.slice(0, 8));
    await commitOffset('cacher', ids[8]);
    const trimmer = redstream.trimmer({ stream: 'products' });

    // The oldest pending entry of indexers (ids[3]) stays.
    expect(await trimmer.trimOnce()).toMatchObject({ trimmed: 3 });
    expect(await remaining()).toEqual(ids.slice(3));

    // All acked: indexers needs what comes after its last-delivered id (ids[5]).
    await admin.xack(streamKey(), 'indexers', ...ids.slice(3, 6));
    expect(await trimmer.trimOnce()).toMatchObject({ trimmed: 3 });
    expect(await remaining()).toEqual(ids.slice(6));

    // The offset consumer is now the slowest reader.
    await admin.xreadgroup('GROUP', 'indexers', 'm1', 'COUNT', 10, 'STREAMS', streamKey(), '>');
    await admin.xack(streamKey(), 'indexers', ...ids.slice(6));
    await admin.xreadgroup('GROUP', 'auditors', 'm1', 'COUNT', 10, 'STREAMS', streamKey(), '>');
    await admin.xack(streamKey(), 'auditors', ...ids.slice(8));
    expect(await trimmer.trimOnce()).toMatchObject({ trimmed: 3 });
    expect(await remaining()).toEqual([ids[9]]);
  });

  it('trims below a running GroupConsumer as it acknowledges', async () => {
    const ids = await queue(20);
    let handled = 0;
    const consumer = redstream.groupConsumer({
      stream: 'products',
      group: 'indexers',
      blockMs: 200,
      handler: (messages) => void (handled += messages.length),
    });
    consumer.start();
    await waitFor(async () => handled === 20 && (await redstream.groupInfo('products', 'indexers'))?.pending === 0);
    const trimmer = redstream.trimmer({ stream: 'products', groupNames: ['indexers'] });
    expect(await trimmer.trimOnce()).toMatchObject({ trimmed: 20 });
    expect(await remaining()).toEqual([]);
    const [next] = await queue(1);
    await waitFor(() => handled === 21);
    expect(next > ids[19]).toBe(true);
  });

  it('keeps everything while a group listed in groupNames does not exist yet', async () => {
    await queue(5);
    await commitOffset('cacher', (await remaining())[4]);
    const trimmer = redstream.trimmer({ stream: 'products', groupNames: ['indexers'] });
    expect(await trimmer.trimOnce()).toMatchObject({ trimmed: 0, skipped: 'group-missing' });
    expect(await remaining()).toHaveLength(5);
    await admin.xgroup('CREATE', streamKey(), 'indexers', '0');
    expect(await trimmer.trimOnce()).toMatchObject({ trimmed: 0, skipped: 'nothing-committed' });
    expect(await remaining()).toHaveLength(5);
  });

  it('validates groupNames', () => {
    expect(() => redstream.trimmer({ stream: 'products', groupNames: ['a:b'] })).toThrow(RedstreamConfigError);
    expect(() => redstream.trimmer({ stream: 'products', groupNames: 'indexers' as unknown as string[] })).toThrow(
      /Trimmer products: groupNames must be an array/,
    );
  });
});
