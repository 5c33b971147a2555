import { In, LessThan } from 'typeorm';
import { Producer, Redstream, silentLogger } from '../../lib/engine';
import { redstreamBulk, redstreamBulkEntities, RedstreamSubscriber } from '../../lib/typeorm';
import { startRedisServer } from '../support/redis-server';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';
import { delayPayloads, RecordingLogger, streamPayloads } from './support/redstream-test-streams';
import { openTestDatabase, testDatabaseKinds, TestDatabase } from './support/typeorm-test-data-source';
import { ITEM_SHARDS, Item, OrderLine, Product } from './support/typeorm-test-entities';

class WriteFailed extends Error {}

const databases = testDatabaseKinds();

describe.each(databases)('redstreamBulk on %s', (kind) => {
  let database: TestDatabase;
  let redstream: Redstream;
  let producer: Producer;
  let logger: RecordingLogger;
  let subscriber: RedstreamSubscriber;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database.close());

  beforeEach(async () => {
    for (const entity of [Product, OrderLine, Item]) await database.dataSource.getRepository(entity).clear();
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace('typeorm'), logger: silentLogger });
    producer = redstream.producer();
    logger = new RecordingLogger();
    // Seeded before the subscriber is attached: the tests look at the bulk's messages only.
    await products().save(Array.from({ length: 25 }, (_, index) => ({ name: `p${index}`, onStock: index % 5 !== 0 })));
    subscriber = new RedstreamSubscriber(producer, { logger }).attach(database.dataSource);
  });
  afterEach(async () => {
    subscriber.detach(database.dataSource);
    await redstream.close();
  });

  const products = () => database.dataSource.getRepository(Product);

  it('pages by primary key even when the write changes which records match, and messages each once', async () => {
    const onStock = (await products().findBy({ onStock: true })).map((product) => ({ id: product.id }));
    const batches: number[] = [];
    const count = await redstreamBulk(
      producer,
      products(),
      { onStock: true, featured: false },
      async (batch) => {
        batches.push(batch.length);
        await products().update({ id: In(batch.map((product) => product.id)) }, { featured: true });
      },
      { batchSize: 7 },
    );
    expect(count).toBe(20);
    expect(batches).toEqual([7, 7, 6]);
    expect(await products().countBy({ featured: true })).toBe(20);
    expect(await streamPayloads(redstream, 'products')).toEqual(onStock);
    expect(await delayPayloads(redstream, 'products')).toEqual(onStock);
    expect(logger.warnings).toEqual([]);
  });

  it('keeps a criterion on the primary key while paging', async () => {
    const all = await products().find({ order: { id: 'ASC' } });
    const chosen = all.slice(3, 13).map((product) => product.id);
    await redstreamBulk(producer, products(), [{ id: In(chosen) }, { id: all[20].id }], () => undefined, {
      batchSize: 4,
    });
    expect(await streamPayloads(redstream, 'products')).toEqual([...chosen, all[20].id].map((id) => ({ id })));
  });

  it('stops at a failing write: that batch keeps only its delay messages, later batches are not touched', async () => {
    const ids = (await products().find({ order: { id: 'ASC' } })).map((product) => product.id);
    let calls = 0;
    await expect(
      redstreamBulk(
        producer,
        products(),
        {},
        () => {
          calls += 1;
          if (calls === 2) throw new WriteFailed();
        },
        { batchSize: 10 },
      ),
    ).rejects.toBeInstanceOf(WriteFailed);
    expect(calls).toBe(2);
    expect(await streamPayloads(redstream, 'products')).toEqual(ids.slice(0, 10).map((id) => ({ id })));
    expect(await delayPayloads(redstream, 'products')).toEqual(ids.slice(0, 20).map((id) => ({ id })));
  });

  it('handles composite keys and sharded streams', async () => {
    subscriber.detach(database.dataSource);
    await database.dataSource
      .getRepository(OrderLine)
      .insert([1, 2, 3].flatMap((lineNo) => [1, 2].map((tenantId) => ({ tenantId, lineNo, quantity: 1 }))));
    await database.dataSource.getRepository(Item).insert([1, 2, 3, 4, 5].map((id) => ({ id, version: 1 })));
    subscriber.attach(database.dataSource);

    const lines = await redstreamBulk(
      producer,
      database.dataSource.getRepository(OrderLine),
      { tenantId: 1 },
      () => 0,
      {
        batchSize: 2,
      },
    );
    expect(lines).toBe(3);
    expect(await streamPayloads(redstream, 'order_line')).toEqual(
      expect.arrayContaining([1, 2, 3].map((lineNo) => ({ id: { tenantId: 1, lineNo } }))),
    );

    await redstreamBulk(producer, database.dataSource.getRepository(Item), { id: LessThan(6) }, () => 0);
    for (const id of [1, 2, 3, 4, 5]) {
      expect(await streamPayloads(redstream, ITEM_SHARDS.streamOf(id))).toContainEqual({ id, version: 1 });
    }
  });

  it('deletes the delay messages after the write when the Producer is configured to', async () => {
    const deleting = redstream.producer({ deleteDelayMessagesOnQueue: true });
    const loaded = await products().findBy({ onStock: false });
    const result = await redstreamBulkEntities(deleting, products(), loaded, async (batch) => {
      expect(await delayPayloads(redstream, 'products')).toHaveLength(batch.length);
      return batch.length;
    });
    expect(result).toBe(5);
    expect(await streamPayloads(redstream, 'products')).toHaveLength(5);
    expect(await delayPayloads(redstream, 'products')).toEqual([]);
  });

  it('does not run the write when Redis is down', async () => {
    const server = await startRedisServer();
    const unreachable = new Redstream({ redis: server.url, logger: silentLogger });
    try {
      await server.stop();
      let written = false;
      await expect(
        redstreamBulk(unreachable.producer({ commandTimeoutMs: 500 }), products(), {}, () => {
          written = true;
        }),
      ).rejects.toThrow();
      expect(written).toBe(false);
    } finally {
      await unreachable.close();
    }
  });
});
