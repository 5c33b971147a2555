import { IsNull, Not } from 'typeorm';
import { Producer, Redstream, silentLogger } from '../../lib/engine';
import { RedstreamBypassError, RedstreamSubscriber, RedstreamSubscriberOptions } from '../../lib/typeorm';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';
import { delayPayloads, RecordingLogger, streamPayloads } from './support/redstream-test-streams';
import { openTestDatabase, testDatabaseKinds, TestDatabase } from './support/typeorm-test-data-source';
import { AuditLog, Car, OrderLine, Product } from './support/typeorm-test-entities';

class Rollback extends Error {}

const databases = testDatabaseKinds();

describe.each(databases)('RedstreamSubscriber on %s', (kind) => {
  let database: TestDatabase;
  let redstream: Redstream;
  let producer: Producer;
  let logger: RecordingLogger;
  let subscriber: RedstreamSubscriber;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database.close());

  function attach(options: RedstreamSubscriberOptions = {}, writer = producer): RedstreamSubscriber {
    subscriber?.detach(database.dataSource);
    subscriber = new RedstreamSubscriber(writer, { logger, ...options }).attach(database.dataSource);
    return subscriber;
  }

  beforeEach(async () => {
    for (const entity of [Product, OrderLine, AuditLog, Car]) await database.dataSource.getRepository(entity).clear();
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace('typeorm'), logger: silentLogger });
    producer = redstream.producer();
    logger = new RecordingLogger();
    attach();
  });
  afterEach(async () => {
    subscriber.detach(database.dataSource);
    await redstream.close();
  });

  const products = () => database.dataSource.getRepository(Product);

  it('writes a delay message inside the transaction and the immediate message after the commit', async () => {
    let delayedBeforeCommit: unknown[] = [];
    let queuedBeforeCommit: unknown[] = [];
    const product = await database.dataSource.transaction(async (manager) => {
      const saved = await manager.save(Product, { name: 'chair' });
      delayedBeforeCommit = await delayPayloads(redstream, 'products');
      queuedBeforeCommit = await streamPayloads(redstream, 'products');
      return saved;
    });
    expect(delayedBeforeCommit).toEqual([{ id: product.id }]);
    expect(queuedBeforeCommit).toEqual([]);
    expect(await streamPayloads(redstream, 'products')).toEqual([{ id: product.id }]);
  });

  it('covers saves outside an explicit transaction: insert, update, soft remove, recover, remove', async () => {
    const product = await products().save({ name: 'lamp' });
    product.name = 'desk lamp';
    await products().save(product);
    await products().softRemove(product);
    await products().recover(product);
    const id = product.id;
    await products().remove(product);
    expect(await streamPayloads(redstream, 'products')).toEqual(Array(5).fill({ id }));
    expect(await delayPayloads(redstream, 'products')).toEqual(Array(5).fill({ id }));
    expect(await products().findOneBy({ id })).toBeNull();
  });

  it('writes messages for repository.insert(), with the generated primary key', async () => {
    const result = await products().insert([{ name: 'a' }, { name: 'b' }]);
    const ids = result.identifiers.map((identifier) => ({ id: identifier.id as number }));
    expect(ids).toHaveLength(2);
    expect(await streamPayloads(redstream, 'products')).toEqual(ids);
  });

  it('writes no immediate message when the transaction rolls back, and leaves the delay message', async () => {
    let id = 0;
    await expect(
      database.dataSource.transaction(async (manager) => {
        id = (await manager.save(Product, { name: 'rolled back' })).id;
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    expect(await products().findOneBy({ id })).toBeNull();
    expect(await streamPayloads(redstream, 'products')).toEqual([]);
    expect(await delayPayloads(redstream, 'products')).toEqual([{ id }]);
  });

  it('drops the messages of a savepoint that rolls back and keeps those of one that is released', async () => {
    const ids: Record<string, number> = {};
    await database.dataSource.transaction(async (outer) => {
      ids.before = (await outer.save(Product, { name: 'before' })).id;
      await expect(
        outer.transaction(async (inner) => {
          ids.dropped = (await inner.save(Product, { name: 'dropped' })).id;
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      await outer.transaction(async (inner) => {
        ids.released = (await inner.save(Product, { name: 'released' })).id;
      });
      expect(await streamPayloads(redstream, 'products')).toEqual([]);
    });
    expect(await streamPayloads(redstream, 'products')).toEqual([{ id: ids.before }, { id: ids.released }]);
    expect(await delayPayloads(redstream, 'products')).toEqual([
      { id: ids.before },
      { id: ids.dropped },
      { id: ids.released },
    ]);
    expect(await products().findOneBy({ name: 'dropped' })).toBeNull();
  });

  it('writes one immediate message for a record saved several times in one transaction', async () => {
    const product = await database.dataSource.transaction(async (manager) => {
      const saved = await manager.save(Product, { name: 'v1' });
      saved.name = 'v2';
      await manager.save(Product, saved);
      saved.name = 'v3';
      return manager.save(Product, saved);
    });
    expect(await streamPayloads(redstream, 'products')).toEqual([{ id: product.id }]);
    expect(await delayPayloads(redstream, 'products')).toHaveLength(3);
  });

  it('handles composite keys, inheritance, and ignores entities that did not opt in', async () => {
    await database.dataSource.getRepository(OrderLine).save({ tenantId: 7, lineNo: 3, quantity: 1 });
    const car = await database.dataSource.getRepository(Car).save({ wheels: 4 });
    await database.dataSource.getRepository(AuditLog).save({ text: 'no message' });
    expect(await streamPayloads(redstream, 'order_line')).toEqual([{ id: { tenantId: 7, lineNo: 3 } }]);
    expect(await streamPayloads(redstream, 'vehicles')).toEqual([{ id: car.id }]);
    expect(await redstream.client.keys(`${redstream.keys.base}:*`)).toHaveLength(4);
  });

  it('picks up a transaction that began before it was attached, savepoints included', async () => {
    subscriber.detach(database.dataSource);
    let kept = 0;
    await database.dataSource.transaction(async (outer) => {
      await expect(
        outer.transaction(async (inner) => {
          attach();
          await inner.save(Product, { name: 'in a savepoint that rolls back' });
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      kept = (await outer.save(Product, { name: 'after it' })).id;
      expect(await streamPayloads(redstream, 'products')).toEqual([]);
    });
    expect(await streamPayloads(redstream, 'products')).toEqual([{ id: kept }]);
  });

  it('writes both messages at once for a write outside any transaction', async () => {
    const product = await products().save({ name: 'autocommit' }, { transaction: false });
    expect(await streamPayloads(redstream, 'products')).toEqual([{ id: product.id }]);
    expect(await delayPayloads(redstream, 'products')).toEqual([{ id: product.id }]);
  });

  it('deletes the delay messages on commit only when the Producer is configured to', async () => {
    attach({}, redstream.producer({ deleteDelayMessagesOnQueue: true }));
    const kept = await products().save({ name: 'committed' });
    let rolledBack = 0;
    await expect(
      database.dataSource.transaction(async (manager) => {
        rolledBack = (await manager.save(Product, { name: 'rolled back' })).id;
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    expect(await streamPayloads(redstream, 'products')).toEqual([{ id: kept.id }]);
    expect(await delayPayloads(redstream, 'products')).toEqual([{ id: rolledBack }]);
  });

  it('reports writes that bypass the subscriber once, and can refuse them', async () => {
    await products().save([{ name: 'x' }, { name: 'y' }]);
    await products().update({ onStock: true }, { featured: true });
    await products().update({ onStock: true }, { featured: false });
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/update of Product .*redstreamBulk/);

    attach({ onBypass: 'fail' });
    await expect(
      database.dataSource.transaction((manager) => manager.delete(Product, { name: Not(IsNull()) })),
    ).rejects.toBeInstanceOf(RedstreamBypassError);
    expect(await products().count()).toBe(2);
  });
});
