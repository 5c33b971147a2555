import Redis from 'ioredis';
import { RedstreamConfigError, RedstreamKeys } from '../../lib/engine';
import { DeadLetters, MAX_DEAD_LETTER_ERROR_LENGTH } from '../../lib/engine/dead-letters';
import { connectTestRedis, uniqueNamespace } from '../support/test-redis';

type PendingRow = [id: string, member: string, idleMs: number, deliveries: number];

describe('DeadLetters', () => {
  const stream = '{products}';
  let redis: Redis;
  let keys: RedstreamKeys;
  let deadLetters: DeadLetters;
  const streamKey = (): string => keys.stream(stream);
  const deadKey = (): string => keys.deadLetterStream(stream);
  const write = async (...payloads: object[]): Promise<string[]> => {
    const ids: string[] = [];
    for (const payload of payloads) ids.push((await redis.xadd(streamKey(), '*', 'payload', JSON.stringify(payload)))!);
    return ids;
  };
  const readAs = (member: string, id = '>'): Promise<unknown> =>
    redis.xreadgroup('GROUP', 'indexers', member, 'COUNT', 100, 'STREAMS', streamKey(), id);
  const pending = async (): Promise<PendingRow[]> =>
    (await redis.xpending(streamKey(), 'indexers', '-', '+', 100)) as PendingRow[];
  const fieldsOf = (raw: string[]): Record<string, string> =>
    Object.fromEntries(Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i], raw[2 * i + 1]]));

  beforeEach(async () => {
    redis = connectTestRedis();
    keys = new RedstreamKeys(uniqueNamespace());
    deadLetters = new DeadLetters(redis, keys);
    await redis.xgroup('CREATE', streamKey(), 'indexers', '0', 'MKSTREAM');
  });
  afterEach(() => redis.quit());

  describe('writing a group member’s entry', () => {
    it('appends the payload unchanged with where it died, and acks the original in the same step', async () => {
      const payload = '{"id":7,"name":"Grüße \\"quoted\\""}';
      const id = (await redis.xadd(streamKey(), '*', 'payload', payload))!;
      await readAs('m1');
      await readAs('m1', '0'); // a second delivery, as a retry after a failure is
      const before = Number((await redis.time())[0]) * 1000;

      const result = await deadLetters.write(
        stream,
        id,
        { kind: 'group', group: 'indexers', member: 'm1' },
        { error: new TypeError('price is not a number') },
      );

      expect(result.status).toBe('written');
      const [[deadId, raw]] = (await redis.xrange(deadKey(), '-', '+')) as [string, string[]][];
      expect(result).toEqual({ status: 'written', deadLetterId: deadId });
      expect(raw.slice(0, 2)).toEqual(['payload', payload]);
      const fields = fieldsOf(raw);
      expect(fields).toMatchObject({
        original_id: id,
        group: 'indexers',
        member: 'm1',
        deliveries: '2',
        error: 'TypeError: price is not a number',
      });
      expect(Number(fields.dead_at)).toBeGreaterThanOrEqual(before);
      expect(Number(fields.dead_at)).toBeLessThan(before + 60_000);
      expect(await pending()).toEqual([]);
      // The dead-letter stream is in the slot of the stream's hash tag.
      expect(deadKey()).toMatch(/:stream:\{products\}\.dead$/);

      const { deadLetters: listed } = await deadLetters.list(stream);
      expect(listed).toEqual([
        {
          id: deadId,
          originalId: id,
          payload,
          group: 'indexers',
          member: 'm1',
          deliveries: 2,
          error: 'TypeError: price is not a number',
          deadAt: Number(fields.dead_at),
        },
      ]);
    });

    it('writes nothing for an entry another member has claimed meanwhile, and leaves it pending', async () => {
      const [id] = await write({ id: 1 });
      await readAs('m1');
      await redis.xclaim(streamKey(), 'indexers', 'm2', 0, id);
      const group = (member: string) => ({ kind: 'group', group: 'indexers', member }) as const;

      expect(await deadLetters.write(stream, id, group('m1'), { error: new Error('boom') })).toEqual({
        status: 'not-owner',
      });
      expect(await redis.xlen(deadKey())).toBe(0);
      expect((await pending()).map(([pendingId, member]) => [pendingId, member])).toEqual([[id, 'm2']]);
    });

    it('writes one dead letter when two members race for the same entry', async () => {
      const [id] = await write({ id: 1 });
      await readAs('m1');
      const results = await Promise.all(
        ['m1', 'm2', 'm1'].map((member) =>
          deadLetters.write(stream, id, { kind: 'group', group: 'indexers', member }, { error: new Error('boom') }),
        ),
      );
      expect(results.map((result) => result.status).sort()).toEqual(['not-owner', 'not-owner', 'written']);
      expect(await redis.xlen(deadKey())).toBe(1);
    });

    it('acks an entry deleted from the stream meanwhile, writing nothing', async () => {
      const [id] = await write({ id: 1 });
      await readAs('m1');
      await redis.xdel(streamKey(), id);
      expect(
        await deadLetters.write(stream, id, { kind: 'group', group: 'indexers', member: 'm1' }, { error: 'x' }),
      ).toEqual({ status: 'deleted' });
      expect(await pending()).toEqual([]);
      expect(await redis.xlen(deadKey())).toBe(0);
    });

    it(`cuts the error message at ${MAX_DEAD_LETTER_ERROR_LENGTH} characters and describes non-Errors`, async () => {
      const [first, second] = await write({ id: 1 }, { id: 2 });
      await readAs('m1');
      const source = { kind: 'group', group: 'indexers', member: 'm1' } as const;
      await deadLetters.write(stream, first, source, { error: new Error('x'.repeat(10_000)) });
      await deadLetters.write(stream, second, source, { error: { code: 42 } });
      const { deadLetters: listed } = await deadLetters.list(stream);
      expect(listed[0].error).toHaveLength(MAX_DEAD_LETTER_ERROR_LENGTH);
      expect(listed[0].error).toMatch(/^Error: x+\.\.\.$/);
      expect(listed[1].error).toBe('a non-Error was thrown: [object Object]');
    });
  });

  describe('writing an offset consumer’s entry', () => {
    it('writes the consumer and the attempts, acks nothing, and is fenced by the lock', async () => {
      const [id] = await write({ id: 1 });
      const lockKey = keys.lock('consumer:{products}:indexer');
      await redis.set(lockKey, 'owner-1');
      const source = (ownerId: string) =>
        ({ kind: 'consumer', consumer: 'indexer', member: ownerId, fence: { lockKey, ownerId } }) as const;

      expect(await deadLetters.write(stream, id, source('owner-2'), { error: 'late', attempts: 4 })).toEqual({
        status: 'not-owner',
      });
      const result = await deadLetters.write(stream, id, source('owner-1'), { error: new Error('bad'), attempts: 4 });
      expect(result.status).toBe('written');
      const { deadLetters: listed } = await deadLetters.list(stream);
      expect(listed).toEqual([
        expect.objectContaining({
          originalId: id,
          consumer: 'indexer',
          member: 'owner-1',
          deliveries: 4,
          error: 'Error: bad',
        }),
      ]);
      expect(listed[0].group).toBeUndefined();
      // Without a fence it just writes.
      await deadLetters.write(stream, id, { kind: 'consumer', consumer: 'indexer' }, { error: 'x', attempts: 1 });
      expect(await deadLetters.count(stream)).toBe(2);
      expect(await redis.xlen(streamKey())).toBe(1);
    });
  });

  describe('operating', () => {
    const deadLettersOf = async (count: number): Promise<string[]> => {
      const ids = await write(...Array.from({ length: count }, (_, i) => ({ id: i })));
      for (const id of ids) {
        await deadLetters.write(stream, id, { kind: 'consumer', consumer: 'indexer' }, { error: 'x', attempts: 1 });
      }
      return (await redis.xrange(deadKey(), '-', '+')).map(([id]) => id);
    };

    it('lists page by page, oldest first', async () => {
      const ids = await deadLettersOf(5);
      const first = await deadLetters.list(stream, { count: 2 });
      const second = await deadLetters.list(stream, { count: 2, start: first.nextStart });
      const third = await deadLetters.list(stream, { count: 2, start: second.nextStart });
      expect([first, second, third].map((page) => page.deadLetters.map((letter) => letter.id))).toEqual([
        ids.slice(0, 2),
        ids.slice(2, 4),
        ids.slice(4),
      ]);
      expect(third.nextStart).toBeUndefined();
      expect(first.deadLetters.map((letter) => letter.payload)).toEqual(['{"id":0}', '{"id":1}']);
      expect((await deadLetters.list('other')).deadLetters).toEqual([]);
    });

    it('replays chosen dead letters as new entries, which the group then delivers', async () => {
      const ids = await deadLettersOf(3);
      await readAs('m1');
      await redis.xack(streamKey(), 'indexers', ...(await pending()).map(([id]) => id));

      const result = await deadLetters.replay(stream, { ids: [ids[2], ids[0], '1-1'] });
      expect(result.missing).toEqual(['1-1']);
      expect(result.replayed.map((replayed) => replayed.deadLetterId)).toEqual([ids[2], ids[0]]);
      const redelivered = (await readAs('m1')) as [string, [string, string[]][]][];
      expect(redelivered[0][1]).toEqual([
        [result.replayed[0].entryId, ['payload', '{"id":2}']],
        [result.replayed[1].entryId, ['payload', '{"id":0}']],
      ]);
      expect((await deadLetters.list(stream)).deadLetters.map((letter) => letter.id)).toEqual([ids[1]]);
    });

    it('replays each dead letter exactly once when two replays run at once', async () => {
      const ids = await deadLettersOf(20);
      const lengthBefore = await redis.xlen(streamKey());
      const [one, other] = await Promise.all([deadLetters.replay(stream), deadLetters.replay(stream, { ids })]);
      expect(one.replayed.length + other.replayed.length).toBe(20);
      expect([...one.replayed, ...other.replayed].map((replayed) => replayed.deadLetterId).sort()).toEqual(ids);
      expect(await redis.xlen(streamKey())).toBe(lengthBefore + 20);
      expect(await deadLetters.count(stream)).toBe(0);
    });

    it('drops chosen dead letters or all of them', async () => {
      const ids = await deadLettersOf(4);
      expect(await deadLetters.drop(stream, { ids: [ids[1], '1-1'] })).toBe(1);
      expect(await deadLetters.count(stream)).toBe(3);
      expect(await deadLetters.drop(stream)).toBe(3);
      expect(await deadLetters.count(stream)).toBe(0);
      expect(await deadLetters.drop(stream, { ids: [] })).toBe(0);
    });

    it('rejects bad input with a typed error naming the method', async () => {
      await expect(deadLetters.list(stream, { count: 0 })).rejects.toThrow(
        'DeadLetters.list: count must be a positive integer, got 0',
      );
      await expect(deadLetters.replay(stream, { ids: ['abc'] })).rejects.toThrow(
        'DeadLetters.replay: ids: "abc" is not a Redis stream id',
      );
      await expect(deadLetters.drop(stream, { ids: [7 as unknown as string] })).rejects.toThrow(RedstreamConfigError);
      await expect(deadLetters.list('products.dead')).rejects.toThrow(/must not end with "\.dead"/);
      await expect(deadLetters.list(stream, { start: 'later' })).rejects.toThrow(RedstreamConfigError);
    });
  });
});
