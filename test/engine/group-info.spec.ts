import Redis from 'ioredis';
import { RedstreamConfigError, RedstreamKeys } from '../../lib/engine';
import { groupInfo, groupInfoFromRecord, recordOf } from '../../lib/engine/group-info';
import { connectTestRedis, uniqueNamespace, waitFor } from '../support/test-redis';

describe('groupInfo', () => {
  const stream = '{products}';
  let redis: Redis;
  let keys: RedstreamKeys;
  const streamKey = (): string => keys.stream(stream);
  const deliver = async (member: string, count: number): Promise<string[]> => {
    const reply = (await redis.xreadgroup('GROUP', 'search', member, 'COUNT', count, 'STREAMS', streamKey(), '>')) as
      [string, [string, string[]][]][] | null;
    return reply ? reply[0][1].map(([id]) => id) : [];
  };
  const info = () => groupInfo(redis, keys, stream, 'search');

  beforeEach(() => {
    redis = connectTestRedis();
    keys = new RedstreamKeys(uniqueNamespace());
  });
  afterEach(() => redis.quit());

  it('is undefined for a stream or a group that does not exist', async () => {
    expect(await info()).toBeUndefined();
    await redis.xadd(streamKey(), '*', 'payload', '{}');
    expect(await info()).toBeUndefined();
  });

  it('rejects a bad group or stream name', async () => {
    await expect(groupInfo(redis, keys, stream, 'a b')).rejects.toThrow(RedstreamConfigError);
    await expect(groupInfo(redis, keys, 'a:b', 'search')).rejects.toThrow(RedstreamConfigError);
  });

  it('reports members, lag, pending and the age of the oldest pending entry', async () => {
    const [seconds] = await redis.time();
    const minuteAgo = Number(seconds) * 1000 - 60_000;
    const ids = [(await redis.xadd(streamKey(), `${minuteAgo}-0`, 'payload', '{}'))!];
    for (let i = 1; i < 10; i++) ids.push((await redis.xadd(streamKey(), '*', 'payload', '{}'))!);
    await redis.xgroup('CREATE', streamKey(), 'search', '0');
    await deliver('m1', 2);
    await deliver('m2', 3);
    await redis.xack(streamKey(), 'search', ids[2]);
    await waitFor(async () => ((await info())?.members ?? []).every((member) => member.idleMs >= 20));

    const result = (await info())!;
    expect(result).toMatchObject({
      stream,
      group: 'search',
      lag: 5,
      lagSource: 'redis',
      lastDeliveredId: ids[4],
      pending: 4,
      oldestPending: { id: ids[0], member: 'm1', deliveries: 1 },
    });
    expect(result.members.map(({ name, pending }) => ({ name, pending }))).toEqual([
      { name: 'm1', pending: 2 },
      { name: 'm2', pending: 2 },
    ]);
    for (const member of result.members) expect(member.idleMs).toBeGreaterThanOrEqual(20);
    expect(result.oldestPending!.ageMs).toBeGreaterThanOrEqual(60_000);
    expect(result.oldestPending!.ageMs).toBeLessThan(60_000 + 10_000);
    expect(result.oldestPending!.idleMs).toBeGreaterThanOrEqual(20);

    await redis.xack(streamKey(), 'search', ...ids.slice(0, 5));
    await deliver('m1', 100);
    const drained = (await info())!;
    expect(drained).toMatchObject({ lag: 0, pending: 5, oldestPending: { id: ids[5] } });
    await redis.xack(streamKey(), 'search', ...ids.slice(5));
    const idle = (await info())!;
    expect(idle.pending).toBe(0);
    expect(idle.oldestPending).toBeUndefined();
  });

  it('counts the lag itself when Redis cannot tell (entries deleted in the range)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await redis.xadd(streamKey(), '*', 'payload', '{}'))!);
    await redis.xgroup('CREATE', streamKey(), 'search', '0');
    await deliver('m1', 5);
    await redis.xdel(streamKey(), ids[10], ids[20]);
    const groups = (await redis.xinfo('GROUPS', streamKey())) as unknown[][];
    expect(groups[0][groups[0].indexOf('lag') + 1]).toBeNull(); // the premise

    expect(await info()).toMatchObject({ lag: 18, lagSource: 'counted' });
    expect(await groupInfo(redis, keys, stream, 'search', { maxLagCount: 18 })).toMatchObject({
      lag: 18,
      lagSource: 'counted',
    });
    expect(await groupInfo(redis, keys, stream, 'search', { maxLagCount: 7 })).toMatchObject({
      lag: 7,
      lagSource: 'at-least',
    });
    await expect(groupInfo(redis, keys, stream, 'search', { maxLagCount: 0 })).rejects.toThrow(
      'groupInfo: maxLagCount must be a positive integer, got 0',
    );
  });

  it('gives the same from a group record read beforehand, and nothing once the group is gone', async () => {
    for (let i = 0; i < 6; i++) await redis.xadd(streamKey(), '*', 'payload', '{}');
    await redis.xgroup('CREATE', streamKey(), 'search', '0');
    await deliver('m1', 2);
    const [record] = ((await redis.xinfo('GROUPS', streamKey())) as (string | number | null)[][]).map(recordOf);
    const fromRecord = groupInfoFromRecord(redis, keys, stream, record);
    // Idle times and ages move between the two reads: the rest is equal.
    const stable = ({ members, oldestPending, ...rest }: NonNullable<Awaited<typeof fromRecord>>) => ({
      ...rest,
      members: members.map(({ name, pending }) => ({ name, pending })),
      oldestPending: { id: oldestPending?.id, member: oldestPending?.member },
    });
    expect(stable((await fromRecord)!)).toEqual(stable((await info())!));

    await redis.xgroup('DESTROY', streamKey(), 'search');
    expect(await groupInfoFromRecord(redis, keys, stream, record)).toBeUndefined();
    await redis.del(streamKey());
    expect(await groupInfoFromRecord(redis, keys, stream, record)).toBeUndefined();
    await expect(groupInfoFromRecord(redis, keys, stream, { ...record, name: 'a b' })).rejects.toThrow(
      RedstreamConfigError,
    );
  });
});
