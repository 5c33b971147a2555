import { Redstream, RedstreamConfigError, RedstreamMessage, silentLogger } from '../../lib/engine';
import { redstreamShards, RedstreamSubscriber, redstreamStreams } from '../../lib/typeorm';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { openTestDatabase, testDatabaseKinds, TestDatabase } from './support/typeorm-test-data-source';
import { ITEM_SHARDS, Item } from './support/typeorm-test-entities';

describe('redstreamShards', () => {
  it("picks the gem README's shard: sha1(id.to_s)[0, 4].to_i(16) % count", () => {
    // Reference values: printf '%s' <id> | sha1sum, first four hex digits, modulo the count.
    const four = redstreamShards('products', 4);
    expect([1, 2, 3, 4, 5, 42].map((id) => four.shardOf(id))).toEqual([2, 3, 2, 0, 0, 3]);
    expect(four.shardOf('abc')).toBe(1);
    expect(four.shardOf(42n)).toBe(3);
    // A composite key hashes as Ruby prints the id array of Rails 7.1: `[1, "a"]`.
    expect(four.shardOf({ tenantId: 1, code: 'a' })).toBe(2);
    expect(four.shardOf({ tenantId: 7, lineNo: 3 })).toBe(3);
    expect(redstreamShards('products', 16).shardOf(42)).toBe(15);
    expect(four.streams).toEqual(['products-0', 'products-1', 'products-2', 'products-3']);
    expect(four.streamOf(1)).toBe('products-2');
  });

  it('rejects a shard count or base name that cannot work', () => {
    expect(() => redstreamShards('products', 0)).toThrow(RedstreamConfigError);
    expect(() => redstreamShards('products', 2.5)).toThrow(RedstreamConfigError);
    expect(() => redstreamShards('bad:name', 2)).toThrow(RedstreamConfigError);
    expect(() => ITEM_SHARDS.shardOf(undefined)).toThrow(RedstreamConfigError);
  });

  it("lists a sharded entity's streams for its consumers", () => {
    expect(redstreamStreams(Item)).toEqual(['items-0', 'items-1', 'items-2', 'items-3']);
  });
});

const databases = testDatabaseKinds();

describe.each(databases)('a sharded entity on %s', (kind) => {
  const ITEMS = 12;
  const VERSIONS = 8;
  let database: TestDatabase;
  let redstream: Redstream;
  let subscriber: RedstreamSubscriber;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database.close());
  beforeEach(() => {
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace('shards'), logger: silentLogger });
    subscriber = new RedstreamSubscriber(redstream.producer()).attach(database.dataSource);
  });
  afterEach(async () => {
    subscriber.detach(database.dataSource);
    await redstream.close();
  });

  it('sends every change of a record to its shard, where one consumer per shard sees them in order', async () => {
    const seen: { stream: string; id: number; version: number }[] = [];
    const consumers = ITEM_SHARDS.consumers<{ id: number; version: number }>(redstream, {
      name: 'indexer',
      blockMs: 200,
      lockTtlMs: 1_000,
      lockRefreshMs: 300,
      handler: (messages: RedstreamMessage<{ id: number; version: number }>[]) => {
        for (const { stream, payload } of messages) seen.push({ stream, ...payload });
      },
    });
    consumers.forEach((consumer) => consumer.start());

    const items = database.dataSource.getRepository(Item);
    const changeItem = async (id: number): Promise<void> => {
      const item = await items.save({ id, version: 1 });
      for (let version = 2; version <= VERSIONS; version += 1) {
        item.version = version;
        await items.save(item);
      }
    };
    const ids = Array.from({ length: ITEMS }, (_, index) => 1_000 + index);
    // PostgreSQL runs the records' transactions concurrently; sql.js has one connection.
    if (kind === 'postgres') await Promise.all(ids.map(changeItem));
    else for (const id of ids) await changeItem(id);

    await waitFor(() => seen.length === ITEMS * VERSIONS, 10_000);
    await Promise.all(consumers.map((consumer) => consumer.stop()));

    const usedShards = new Set(seen.map((message) => message.stream));
    expect(usedShards.size).toBeGreaterThan(1);
    for (const id of ids) {
      const changes = seen.filter((message) => message.id === id);
      expect(new Set(changes.map((message) => message.stream))).toEqual(new Set([ITEM_SHARDS.streamOf(id)]));
      expect(changes.map((message) => message.version)).toEqual(Array.from({ length: VERSIONS }, (_, i) => i + 1));
    }

    const trimmed = await Promise.all(ITEM_SHARDS.trimmers(redstream).map((trimmer) => trimmer.trimOnce()));
    expect(trimmed.reduce((sum, result) => sum + result.trimmed, 0)).toBe(ITEMS * VERSIONS);
  });

  it('has a delayer per shard that re-queues each delay message into its own shard', async () => {
    const delayers = ITEM_SHARDS.delayers(redstream, {
      delay: 100,
      blockMs: 200,
      lockTtlMs: 1_000,
      lockRefreshMs: 300,
    });
    await database.dataSource.transaction(async (manager) => {
      await manager.save(
        Item,
        [1, 2, 3, 4].map((id) => ({ id: 2_000 + id, version: 1 })),
      );
    });
    const before = await Promise.all(ITEM_SHARDS.streams.map((stream) => redstream.streamLength(stream)));
    delayers.forEach((delayer) => delayer.start());
    await waitFor(async () => {
      const after = await Promise.all(ITEM_SHARDS.streams.map((stream) => redstream.streamLength(stream)));
      return after.every((length, shard) => length === before[shard] * 2);
    });
    await Promise.all(delayers.map((delayer) => delayer.stop()));
  });
});
