import Redis from 'ioredis';
import { RedstreamKeys } from '../../lib/engine';
import { RedisConnectionFactory } from '../../lib/engine/redis-connection';
import { BlockingReader } from '../../lib/engine/blocking-reader';
import { GroupMembership } from '../../lib/engine/group-membership';
import { GroupReader } from '../../lib/engine/group-reader';
import { RecordingLogger } from '../support/recording-logger';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

type PendingRow = [id: string, member: string, idleMs: number, deliveries: number];

describe('GroupReader', () => {
  let redis: Redis;
  let streamKey: string;
  let logger: RecordingLogger;
  const reader = (member: string, withMembership = false): GroupReader => {
    const target = { streamKey, group: 'indexers', member };
    const membership = withMembership
      ? new GroupMembership(redis, target, logger, `GroupConsumer products:indexers (${member})`)
      : undefined;
    return new GroupReader(redis, target, logger, `GroupConsumer products:indexers (${member})`, membership);
  };
  const write = async (count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await redis.xadd(streamKey, '*', 'payload', JSON.stringify({ i })))!);
    return ids;
  };
  const pending = async (member?: string): Promise<PendingRow[]> =>
    (member
      ? await redis.xpending(streamKey, 'indexers', '-', '+', 10_000, member)
      : await redis.xpending(streamKey, 'indexers', '-', '+', 10_000)) as PendingRow[];
  const idsOf = (entries: [string, string[]][]): string[] => entries.map(([id]) => id);
  const idleFor = (ms: number, ids: string[]): Promise<boolean> =>
    waitFor(
      async () => (await pending()).filter(([id, , idle]) => ids.includes(id) && idle >= ms).length === ids.length,
    );

  beforeEach(async () => {
    redis = connectTestRedis();
    streamKey = new RedstreamKeys(uniqueNamespace()).stream('{products}');
    logger = new RecordingLogger();
    await redis.xgroup('CREATE', streamKey, 'indexers', '0', 'MKSTREAM');
  });
  afterEach(() => redis.quit());

  describe('pending first', () => {
    it("returns the member's own pending entries, in order, paged, each read counting a delivery", async () => {
      const ids = await write(5);
      const member = reader('m1');
      expect(idsOf(await member.readNew(3))).toEqual(ids.slice(0, 3));
      expect(idsOf(await reader('m2').readNew(10))).toEqual(ids.slice(3));

      const first = await member.readPending(2);
      expect(idsOf(first.entries)).toEqual(ids.slice(0, 2));
      expect(first.entries[0][1]).toEqual(['payload', '{"i":0}']);
      expect(first.nextAfterId).toBe(ids[1]);
      const second = await member.readPending(2, first.nextAfterId);
      expect(idsOf(second.entries)).toEqual([ids[2]]);
      expect(second.nextAfterId).toBeUndefined();

      const states = await member.pendingState(ids);
      expect([...states.keys()]).toEqual(ids.slice(0, 3)); // only its own
      expect([...states.values()].map((state) => state.deliveries)).toEqual([2, 2, 2]);

      await member.ack(ids.slice(0, 3));
      expect(await member.readPending(10)).toEqual({ entries: [], deletedIds: [], nextAfterId: undefined });
    });

    it('acks and logs entries deleted while pending instead of returning them', async () => {
      const ids = await write(3);
      const member = reader('m1');
      await member.readNew(10);
      await redis.xdel(streamKey, ids[1]);

      const page = await member.readPending(10);
      expect(idsOf(page.entries)).toEqual([ids[0], ids[2]]);
      expect(page.deletedIds).toEqual([ids[1]]);
      expect((await pending('m1')).map(([id]) => id)).toEqual([ids[0], ids[2]]);
      expect(
        logger.matching('warn', new RegExp(`1 pending entry was deleted .*acknowledged without handling: ${ids[1]}`)),
      ).toHaveLength(1);
    });
  });

  describe('new entries', () => {
    it('blocks on the connection it is given, under a BlockingReader watchdog', async () => {
      const connections = new RedisConnectionFactory(testRedisUrl());
      const blocking = new BlockingReader(connections, 'test group read', 2_000);
      try {
        const member = reader('m1');
        const read = blocking.watch(5_000, (client) => member.readNew(10, 5_000, client));
        // The shared connection stays free while the read blocks.
        await waitFor(async () => ((await redis.client('LIST')) as string).includes('cmd=xreadgroup'));
        const [id] = await write(1);
        expect(idsOf(await read)).toEqual([id]);
        expect(await blocking.watch(50, (client) => member.readNew(10, 50, client))).toEqual([]);
        expect(await member.readNew(10)).toEqual([]);
      } finally {
        await blocking.close();
        await connections.close();
      }
    });

    it('recreates a group deleted by hand when it has a membership', async () => {
      const member = reader('m1', true);
      await redis.xgroup('DESTROY', streamKey, 'indexers');
      const ids = await write(2);
      expect(idsOf(await member.readNew(10))).toEqual(ids);
      expect(logger.matching('warn', /was deleted while member m1 was running/)).toHaveLength(1);
    });
  });

  describe('claiming from dead or stuck members', () => {
    it('takes over idle entries, counting a delivery, acking the ones deleted meanwhile', async () => {
      const ids = await write(5);
      await reader('dead').readNew(10);
      await redis.xdel(streamKey, ids[2]);
      await idleFor(100, [ids[0], ids[1], ids[3], ids[4]]);
      const fresh = await write(1);
      await reader('busy').readNew(10); // pending, but not idle long enough

      const claimed = await reader('alive').claimIdle(100, 10);
      expect(idsOf(claimed.entries)).toEqual([ids[0], ids[1], ids[3], ids[4]]);
      expect(claimed.entries[0][1]).toEqual(['payload', '{"i":0}']);
      expect(claimed.deletedIds).toEqual([ids[2]]);
      expect(claimed.scanComplete).toBe(true);
      expect(await pending('dead')).toEqual([]);
      expect((await pending('alive')).map(([id, , , deliveries]) => [id, deliveries])).toEqual(
        [ids[0], ids[1], ids[3], ids[4]].map((id) => [id, 2]),
      );
      expect((await pending('busy')).map(([id]) => id)).toEqual(fresh);
      expect(logger.matching('warn', /1 claimed entry was deleted/)).toHaveLength(1);
    });

    it('claims at most count entries per call and goes on from there next time', async () => {
      const ids = await write(5);
      await reader('dead').readNew(10);
      await idleFor(50, ids);
      const alive = reader('alive');
      const first = await alive.claimIdle(50, 2);
      const second = await alive.claimIdle(50, 2);
      const third = await alive.claimIdle(50, 2);
      expect([first, second, third].map((result) => idsOf(result.entries))).toEqual([
        ids.slice(0, 2),
        ids.slice(2, 4),
        ids.slice(4),
      ]);
      expect(third.scanComplete).toBe(true);
      expect(await pending('dead')).toEqual([]);
    });

    it('follows the cursor past pending entries that are not idle', async () => {
      // XAUTOCLAIM looks at no more than 10 x COUNT pending entries per call.
      const ids = await write(40);
      await reader('dead').readNew(100);
      await idleFor(100, ids);
      // A live member took all but the last one back: fresh, not claimable.
      await redis.xclaim(streamKey, 'indexers', 'busy', 0, ...ids.slice(0, 39));

      const claimed = await reader('alive').claimIdle(100, 1);
      expect(idsOf(claimed.entries)).toEqual([ids[39]]);
    });
  });
});
