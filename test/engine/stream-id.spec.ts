import Redis from 'ioredis';
import { Redstream, RedstreamConfigError, silentLogger } from '../../lib/engine';
import { compareStreamIds, minStreamId, nextStreamId, streamIdTimestamp } from '../../lib/engine/stream-id';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

describe('stream ids', () => {
  it('compares numerically, not as strings', () => {
    expect(compareStreamIds('5-9', '5-10')).toBe(-1);
    expect(compareStreamIds('5-10', '5-9')).toBe(1);
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('10-0', '9-99')).toBe(1);
    expect(compareStreamIds('7-3', '7-3')).toBe(0);
    expect(compareStreamIds('7', '7-0')).toBe(0);
    // Sequence numbers are 64 bit: beyond 2^53 a double would call these equal.
    expect(compareStreamIds('1-9007199254740993', '1-9007199254740992')).toBe(1);
    expect(minStreamId(['10-0', '5-10', '5-9', '9-0'])).toBe('5-9');
    expect(minStreamId([])).toBeUndefined();
  });

  it('computes the next id and the timestamp', () => {
    expect(nextStreamId('5-9')).toBe('5-10');
    expect(nextStreamId('5-18446744073709551615')).toBe('6-0');
    expect(streamIdTimestamp('1700000000123-4')).toBe(1700000000123);
  });

  it('rejects what is not a stream id', () => {
    expect(() => compareStreamIds('abc', '1-0')).toThrow(RedstreamConfigError);
    expect(() => nextStreamId('1-x')).toThrow(RedstreamConfigError);
  });

  describe('in Redis', () => {
    let redstream: Redstream;
    let admin: Redis;
    let namespace: string;
    const streamKey = (): string => `${namespace}:redstream:stream:products`;
    const addEntries = async (ids: string[]): Promise<void> => {
      for (const id of ids) await admin.xadd(streamKey(), id, 'payload', JSON.stringify({ id }));
    };
    const remainingIds = async (): Promise<string[]> => (await admin.xrange(streamKey(), '-', '+')).map(([id]) => id);
    const commitOffsets = async (offsets: Record<string, string>): Promise<void> => {
      for (const [name, offset] of Object.entries(offsets)) {
        await admin.set(`${namespace}:redstream:offset:products:${name}`, offset);
      }
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

    it('consumes explicit ids in numeric order and commits the numerically last', async () => {
      await addEntries(['5-1', '5-9', '5-10', '9-0', '10-0']);
      const batches: string[][] = [];
      const consumer = redstream.consumer({
        stream: 'products',
        name: 'indexer',
        batchSize: 2,
        handler: (messages) => void batches.push(messages.map((message) => message.id)),
      });
      consumer.start();
      await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === '10-0');
      await consumer.stop();
      expect(batches).toEqual([['5-1', '5-9'], ['5-10', '9-0'], ['10-0']]);
    });

    it('trims up to the numerically smallest offset: 5-10 is below 10-0', async () => {
      await addEntries(['5-1', '5-9', '5-10', '9-0', '10-0', '10-5']);
      // As strings "10-0" < "5-10": a string minimum would delete 9-0 and 10-0, which
      // `slow` has not committed.
      await commitOffsets({ fast: '10-0', slow: '5-10' });
      const result = await redstream.trimmer({ stream: 'products', consumerNames: ['fast', 'slow'] }).trimOnce();
      expect(result).toEqual({ trimmed: 3, consumers: ['fast', 'slow'] });
      expect(await remainingIds()).toEqual(['9-0', '10-0', '10-5']);
    });

    it('trims up to the numerically smallest offset: 5-9 is below 5-10', async () => {
      await addEntries(['5-1', '5-9', '5-10', '5-11']);
      await commitOffsets({ fast: '5-10', slow: '5-9' });
      const result = await redstream.trimmer({ stream: 'products', consumerNames: ['fast', 'slow'] }).trimOnce();
      expect(result.trimmed).toBe(2);
      expect(await remainingIds()).toEqual(['5-10', '5-11']);
    });

    it('trims exactly with sequence numbers beyond 2^53', async () => {
      await addEntries(['1-9007199254740992', '1-9007199254740993', '1-9007199254740994']);
      await commitOffsets({ only: '1-9007199254740993' });
      const result = await redstream.trimmer({ stream: 'products', consumerNames: ['only'] }).trimOnce();
      expect(result.trimmed).toBe(2);
      expect(await remainingIds()).toEqual(['1-9007199254740994']);
    });

    it('trims an offset written without sequence number as <ms>-0', async () => {
      await addEntries(['3-0', '3-1', '4-0']);
      await commitOffsets({ only: '3' });
      const result = await redstream.trimmer({ stream: 'products', consumerNames: ['only'] }).trimOnce();
      expect(result.trimmed).toBe(1);
      expect(await remainingIds()).toEqual(['3-1', '4-0']);
    });
  });
});
