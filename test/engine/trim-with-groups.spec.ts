import Redis from 'ioredis';
import { RedstreamKeys } from '../../lib/engine';
import { trimBelowReaders } from '../../lib/engine/group-trim';
import { connectTestRedis, uniqueNamespace } from '../support/test-redis';

describe('trimming a stream read by consumer groups (trim-with-groups.lua)', () => {
  const stream = '{products}';
  let redis: Redis;
  let keys: RedstreamKeys;
  let ids: string[];
  const streamKey = (): string => keys.stream(stream);
  const remaining = async (): Promise<string[]> => (await redis.xrange(streamKey(), '-', '+')).map(([id]) => id);
  const trim = (consumers: string[] = [], requiredGroups: string[] = []) =>
    trimBelowReaders(redis, keys, stream, { consumers, requiredGroups });
  const group = async (name: string, startAt = '0'): Promise<void> => {
    await redis.xgroup('CREATE', streamKey(), name, startAt, 'MKSTREAM');
  };
  /** `member` of `name` reads `count` new entries; returns their ids. */
  const deliver = async (name: string, count: number, member = 'm1'): Promise<string[]> => {
    const reply = (await redis.xreadgroup('GROUP', name, member, 'COUNT', count, 'STREAMS', streamKey(), '>')) as
      [string, [string, string[]][]][] | null;
    return reply ? reply[0][1].map(([id]) => id) : [];
  };
  const ack = (name: string, ...acked: string[]) => redis.xack(streamKey(), name, ...acked);
  const commit = async (consumer: string, offset: string): Promise<void> => {
    await redis.sadd(keys.consumerRegistry(stream), consumer);
    await redis.set(keys.offset(stream, consumer), offset);
  };

  beforeEach(async () => {
    redis = connectTestRedis();
    keys = new RedstreamKeys(uniqueNamespace());
    ids = [];
    for (let i = 0; i < 10; i++) ids.push((await redis.xadd(streamKey(), '*', 'payload', `{"i":${i}}`))!);
  });
  afterEach(() => redis.quit());

  it("keeps a group's pending entries and everything it has not delivered yet", async () => {
    await group('search');
    await deliver('search', 6);
    await ack('search', ids[0], ids[1], ids[4], ids[5]); // 2 and 3 still pending
    expect(await trim()).toEqual({ trimmed: 2 });
    expect(await remaining()).toEqual(ids.slice(2));

    await ack('search', ids[2], ids[3]);
    // Delivered and acked up to ids[5]: that one goes too, ids[6..] were never delivered.
    expect(await trim()).toEqual({ trimmed: 4 });
    expect(await remaining()).toEqual(ids.slice(6));
  });

  it('keeps what the slowest of several groups still needs', async () => {
    await group('search');
    await group('cache');
    await group('late', '$'); // starts at the end: needs none of the existing entries
    await ack('search', ...(await deliver('search', 8)));
    await ack('cache', ...(await deliver('cache', 3)));
    expect(await trim()).toEqual({ trimmed: 3 });
    expect(await remaining()).toEqual(ids.slice(3));

    await deliver('cache', 2, 'm2'); // ids[3], ids[4] pending with another member
    await ack('cache', ids[4]);
    expect(await trim()).toEqual({ trimmed: 0 });
    expect(await remaining()).toEqual(ids.slice(3));
  });

  it('trims a stream shared by an offset consumer and a group below both', async () => {
    await group('search');
    await ack('search', ...(await deliver('search', 8)));
    await deliver('search', 1); // ids[8] pending
    await commit('indexer', ids[3]);
    expect(await trim(['indexer'])).toEqual({ trimmed: 4 });
    expect(await remaining()).toEqual(ids.slice(4));

    await commit('indexer', ids[9]);
    expect(await trim(['indexer'])).toEqual({ trimmed: 4 }); // up to the pending ids[8], excluded
    expect(await remaining()).toEqual(ids.slice(8));

    await ack('search', ids[8]);
    await ack('search', ...(await deliver('search', 1)));
    expect(await trim(['indexer'])).toEqual({ trimmed: 2 });
    expect(await remaining()).toEqual([]);
  });

  it('trims nothing while an offset consumer, a registered consumer or a required group is missing', async () => {
    await group('search');
    await ack('search', ...(await deliver('search', 10)));
    await redis.sadd(keys.consumerRegistry(stream), 'indexer');
    expect(await trim(['indexer'])).toEqual({ trimmed: 0, skipped: 'consumer-without-offset' });
    expect(await trim([])).toEqual({ trimmed: 0, skipped: 'registry-changed' });
    await commit('indexer', ids[9]);
    expect(await trim(['indexer'], ['search', 'reports'])).toEqual({ trimmed: 0, skipped: 'group-missing' });
    expect(await remaining()).toEqual(ids);

    await group('reports');
    expect(await trim(['indexer'], ['search', 'reports'])).toEqual({ trimmed: 0 });
    await ack('reports', ...(await deliver('reports', 5)));
    expect(await trim(['indexer'], ['search', 'reports'])).toEqual({ trimmed: 5 });
  });

  it('trims nothing without any reader, nor on an offset beyond the last id the stream generated', async () => {
    expect(await trim()).toEqual({ trimmed: 0 });
    // Set by hand, far in the future: its consumer stalls on it (RedstreamOffsetError), and
    // what it has not handled must stay until the key is fixed.
    await commit('indexer', '99999999999999-0');
    await expect(trim(['indexer'])).rejects.toThrow(
      new RegExp(
        `offset in ${keys.offset(stream, 'indexer')} \\(99999999999999-0\\) is beyond the last id the stream generated \\(${ids[9]}\\); not trimming`,
      ),
    );
    expect(await remaining()).toEqual(ids);
    await commit('indexer', ids[9]);
    expect(await trim(['indexer'])).toEqual({ trimmed: 10 });
    // The key stays with its last id: new entries never get ids below the committed ones.
    const info = (await redis.xinfo('STREAM', streamKey())) as unknown[];
    expect(info[info.indexOf('length') + 1]).toBe(0);
    expect(info[info.indexOf('last-generated-id') + 1]).toBe(ids[9]);
    await redis.del(streamKey());
    expect(await trim(['indexer'])).toEqual({ trimmed: 0 });
  });

  it('compares ids numerically beyond 2^53 and across digit counts', async () => {
    await redis.del(streamKey());
    const big = ['5-9', '5-10', '5-9007199254740993', '5-9007199254740994', '10-0', '10-1'];
    for (const id of big) await redis.xadd(streamKey(), id, 'payload', '{}');
    await group('search');
    await ack('search', ...(await deliver('search', 3)));
    await deliver('search', 1); // 5-9007199254740994 pending
    expect(await trim()).toEqual({ trimmed: 3 });
    expect(await remaining()).toEqual(big.slice(3));
  });
});
