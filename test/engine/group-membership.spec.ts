import Redis from 'ioredis';
import { RedstreamConfigError, RedstreamKeys } from '../../lib/engine';
import {
  GroupMembership,
  isNoGroupError,
  RedstreamGroupMissingError,
  resolveGroupStartAt,
} from '../../lib/engine/group-membership';
import { RecordingLogger } from '../support/recording-logger';
import { connectTestRedis, uniqueNamespace, waitFor } from '../support/test-redis';

type ConsumerInfo = { name: string; pending: number; idle: number };

describe('GroupMembership', () => {
  let redis: Redis;
  let streamKey: string;
  let logger: RecordingLogger;
  const membership = (member: string, startAt?: 'begin' | 'end'): GroupMembership =>
    new GroupMembership(
      redis,
      { streamKey, group: 'indexers', member, startAt },
      logger,
      'GroupConsumer products:indexers',
    );
  const consumers = async (): Promise<ConsumerInfo[]> =>
    ((await redis.xinfo('CONSUMERS', streamKey, 'indexers')) as (string | number)[][]).map((fields) => {
      const record: Record<string, string | number> = {};
      for (let i = 0; i < fields.length; i += 2) record[fields[i] as string] = fields[i + 1];
      return { name: record.name as string, pending: record.pending as number, idle: record.idle as number };
    });
  const readNew = (member: string, count = 10): Promise<unknown> =>
    redis.xreadgroup('GROUP', 'indexers', member, 'COUNT', count, 'STREAMS', streamKey, '>');
  const entriesOf = (reply: unknown): string[] =>
    reply ? (reply as [string, [string, string[]][]][])[0][1].map(([id]) => id) : [];

  const ackAll = async (reply: unknown): Promise<void> => {
    await redis.xack(streamKey, 'indexers', ...entriesOf(reply));
  };

  beforeEach(() => {
    redis = connectTestRedis();
    streamKey = new RedstreamKeys(uniqueNamespace()).stream('{products}');
    logger = new RecordingLogger();
  });
  afterEach(() => redis.quit());

  describe('creating the group', () => {
    it('creates it once when many members start at once, with the stream (MKSTREAM)', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, index) => membership(`m${index}`).ensureGroup()));
      expect(results.filter((result) => result === 'created')).toHaveLength(1);
      expect(results.filter((result) => result === 'exists')).toHaveLength(7);
      expect(await redis.type(streamKey)).toBe('stream');
      expect(await redis.xlen(streamKey)).toBe(0);
    });

    it('starts at the beginning by default: entries written before the first deploy are delivered', async () => {
      const written = [
        await redis.xadd(streamKey, '*', 'payload', '{"id":1}'),
        await redis.xadd(streamKey, '*', 'payload', '{"id":2}'),
      ];
      await membership('m1').ensureGroup();
      expect(entriesOf(await readNew('m1'))).toEqual(written);
    });

    it("starts at the end with startAt: 'end'", async () => {
      await redis.xadd(streamKey, '*', 'payload', '{"id":1}');
      await membership('m1', 'end').ensureGroup();
      expect(await readNew('m1')).toBeNull();
      const later = await redis.xadd(streamKey, '*', 'payload', '{"id":2}');
      expect(entriesOf(await readNew('m1'))).toEqual([later]);
    });

    it('keeps an existing group where it is', async () => {
      await redis.xadd(streamKey, '*', 'payload', '{"id":1}');
      await membership('m1').ensureGroup();
      await readNew('m1');
      expect(await membership('m2').ensureGroup()).toBe('exists');
      expect(await readNew('m2')).toBeNull();
    });

    it('rejects a startAt other than begin or end, naming the owner', () => {
      expect(() => membership('m1', 'start' as 'begin')).toThrow(RedstreamConfigError);
      expect(() => resolveGroupStartAt(0, 'GroupConsumer a:b')).toThrow(
        "GroupConsumer a:b: startAt must be 'begin' or 'end', got 0",
      );
      expect(resolveGroupStartAt(undefined, 'x')).toBe('begin');
    });
  });

  describe('a group deleted by hand under running members', () => {
    it('is recreated from the start, logged once, and its entries are delivered again', async () => {
      const first = membership('m1', 'end');
      const second = membership('m2', 'end');
      await first.ensureGroup();
      const ids = [
        await redis.xadd(streamKey, '*', 'payload', '{"id":1}'),
        await redis.xadd(streamKey, '*', 'payload', '{"id":2}'),
      ];
      expect(entriesOf(await first.withGroup(() => readNew('m1')))).toEqual(ids);

      await redis.xgroup('DESTROY', streamKey, 'indexers');
      const noGroup = await readNew('m1').catch((error: unknown) => error);
      expect(isNoGroupError(noGroup)).toBe(true);
      const [again, other] = await Promise.all([
        first.withGroup(() => readNew('m1', 1)),
        second.withGroup(() => readNew('m2', 1)),
      ]);
      // Both entries come again, one to each member: the group restarted at the beginning.
      expect([...entriesOf(again), ...entriesOf(other)].sort()).toEqual(ids);
      expect(
        logger.matching('warn', /was deleted while member m[12] was running; recreated it from the start/),
      ).toHaveLength(1);
    });

    it('is recreated when the whole stream was deleted', async () => {
      const member = membership('m1');
      await member.ensureGroup();
      await redis.del(streamKey);
      const id = await redis.xadd(streamKey, '*', 'payload', '{"id":1}');
      expect(entriesOf(await member.withGroup(() => readNew('m1')))).toEqual([id]);
      expect(logger.warnings).toHaveLength(1);
    });

    it('gives a typed error, not a loop, when the group keeps disappearing', async () => {
      const member = membership('m1');
      await member.ensureGroup();
      let calls = 0;
      const deletedEveryTime = async (): Promise<unknown> => {
        calls++;
        await redis.xgroup('DESTROY', streamKey, 'indexers');
        return readNew('m1');
      };
      const failure = member.withGroup(deletedEveryTime);
      await expect(failure).rejects.toThrow(RedstreamGroupMissingError);
      await expect(failure).rejects.toThrow(
        /consumer group "indexers" on .* disappeared again right after it was recreated/,
      );
      expect(calls).toBe(2);
    });

    it('passes other errors through untouched', async () => {
      await redis.set(streamKey, 'not a stream');
      await expect(membership('m1').ensureGroup()).rejects.toThrow(/WRONGTYPE/);
      await expect(membership('m1').withGroup(() => readNew('m1'))).rejects.toThrow(/WRONGTYPE/);
    });
  });

  describe('forgetting members', () => {
    it('removes idle members without pending entries, never one that holds entries, never itself', async () => {
      const self = membership('self');
      await self.ensureGroup();
      await redis.xadd(streamKey, '*', 'payload', '{"id":1}');
      await redis.xadd(streamKey, '*', 'payload', '{"id":2}');
      await readNew('holder', 1); // holds the first entry, pending
      await ackAll(await readNew('empty', 1)); // handled the second one: nothing pending
      await redis.xgroup('CREATECONSUMER', streamKey, 'indexers', 'self');
      await waitFor(async () => (await consumers()).every((consumer) => consumer.idle >= 200));
      await redis.xgroup('CREATECONSUMER', streamKey, 'indexers', 'fresh'); // just started

      expect(await self.forgetIdleMembers(200)).toEqual(['empty']);
      expect((await consumers()).map((consumer) => consumer.name).sort()).toEqual(['fresh', 'holder', 'self']);
      expect(
        logger.matching('log', /removed 1 member\(s\) idle for 200 ms or more without pending entries: empty/),
      ).toHaveLength(1);
      // The holder's entry is still pending, for a claim.
      expect(((await redis.xpending(streamKey, 'indexers')) as [number])[0]).toBe(1);
    });

    it('recreates a deleted group rather than failing', async () => {
      const self = membership('self');
      await self.ensureGroup();
      await redis.xgroup('DESTROY', streamKey, 'indexers');
      expect(await self.forgetIdleMembers(1)).toEqual([]);
      expect(await self.ensureGroup()).toBe('exists');
    });

    it('leaves the group on a graceful stop only without pending entries', async () => {
      const holder = membership('holder');
      const empty = membership('empty');
      await holder.ensureGroup();
      await redis.xadd(streamKey, '*', 'payload', '{"id":1}');
      await redis.xadd(streamKey, '*', 'payload', '{"id":2}');
      await readNew('holder', 1);
      await ackAll(await readNew('empty', 1));
      expect(await holder.leave()).toBe(false);
      expect(await empty.leave()).toBe(true);
      expect(await empty.leave()).toBe(false);
      expect((await consumers()).map((consumer) => consumer.name)).toEqual(['holder']);
      await redis.xgroup('DESTROY', streamKey, 'indexers');
      expect(await holder.leave()).toBe(false);
    });
  });
});
