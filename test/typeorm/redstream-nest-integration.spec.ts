import { Global, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getRepositoryToken, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import { Redstream, RedstreamMessage } from '../../lib/engine';
import { RedstreamConsumer, RedstreamHandlerContext, RedstreamModule, RedstreamRegistry } from '../../lib/nest';
import {
  redstreamShardConsumers,
  redstreamShardDelayers,
  redstreamStreamName,
  RedstreamTypeOrmModule,
} from '../../lib/typeorm';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { openTestDatabase, TestDatabase } from './support/typeorm-test-data-source';
import { ITEM_SHARDS, Item, Product, TEST_ENTITIES } from './support/typeorm-test-entities';

type ItemMessage = RedstreamMessage<{ id: number; version: number }>;

@Injectable()
class ItemIndexer {
  readonly seen: { stream: string; id: number }[] = [];

  // Not decorated: redstreamShardConsumers() runs one consumer per shard that calls it.
  index(messages: ItemMessage[], context: RedstreamHandlerContext): void {
    for (const message of messages) this.seen.push({ stream: context.stream, id: message.payload.id });
  }
}

@Injectable()
class ProductIndexer {
  readonly ids: number[] = [];

  @RedstreamConsumer({ stream: redstreamStreamName(Product), name: 'indexer' })
  index(messages: RedstreamMessage<{ id: number }>[]): void {
    this.ids.push(...messages.map((message) => message.payload.id));
  }
}

/** A consumer as the README shows it: ids in, current rows re-read through the injected repository. */
@Injectable()
class ProductNames {
  readonly names = new Map<number, string | null>();

  constructor(@InjectRepository(Product) private readonly products: Repository<Product>) {}

  @RedstreamConsumer({ stream: redstreamStreamName(Product), name: 'names' })
  async index(messages: RedstreamMessage<{ id: number }>[]): Promise<void> {
    const ids = [...new Set(messages.map((message) => message.payload.id))];
    const current = await this.products.findBy({ id: In(ids) });
    for (const id of ids) this.names.set(id, current.find((product) => product.id === id)?.name ?? null);
  }
}

/** The whole Nest setup a user writes: RedstreamModule, RedstreamTypeOrmModule, entity consumers, shards. */
describe('TypeORM entities in a Nest application', () => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await openTestDatabase('sqljs');
  });
  afterEach(() => database.close());

  it('sends entity changes to decorated consumers and to one consumer and delayer per shard', async () => {
    // In an application: TypeOrmModule.forRoot(), which provides the DataSource under this token.
    @Global()
    @Module({ providers: [{ provide: DataSource, useValue: database.dataSource }], exports: [DataSource] })
    class DatabaseModule {}

    const app = await Test.createTestingModule({
      imports: [
        DatabaseModule,
        RedstreamModule.forRoot({
          redis: testRedisUrl(),
          namespace: uniqueNamespace('typeorm-nest'),
          logger: false,
          consumerDefaults: { blockMs: 200, lockTtlMs: 1_000, lockRefreshMs: 300, standbyPollMs: 100 },
        }),
        RedstreamTypeOrmModule.forRoot(),
      ],
      providers: [
        ItemIndexer,
        ProductIndexer,
        ...redstreamShardConsumers(ITEM_SHARDS, { name: 'indexer', handler: ItemIndexer, method: 'index' }),
        ...redstreamShardDelayers(ITEM_SHARDS, { delay: 200 }),
      ],
    }).compile();
    app.enableShutdownHooks();
    await app.init();
    try {
      const registry = app.get(RedstreamRegistry);
      expect(
        registry
          .consumers()
          .map((consumer) => consumer.stream)
          .sort(),
      ).toEqual(['items-0', 'items-1', 'items-2', 'items-3', 'products'].sort());
      expect(registry.delayers().map((delayer) => delayer.stream)).toEqual([...ITEM_SHARDS.streams]);

      const product = await database.dataSource.getRepository(Product).save({ name: 'nest' });
      const ids = [1, 2, 3, 4, 5, 6, 7, 8];
      await database.dataSource.getRepository(Item).save(ids.map((id) => ({ id, version: 1 })));

      const products = app.get(ProductIndexer);
      const items = app.get(ItemIndexer);
      await waitFor(() => products.ids.includes(product.id));
      // Each item arrives twice: its immediate message, then its delay message re-queued by its shard's delayer.
      await waitFor(() => items.seen.length === ids.length * 2);
      for (const { stream, id } of items.seen) expect(stream).toBe(ITEM_SHARDS.streamOf(id));
      // The shard helpers put the shards in balanced groups: one instance here owns them all.
      const redstream = app.get(Redstream);
      for (const group of [`${ITEM_SHARDS.base}:indexer`, `${ITEM_SHARDS.base}:delayer`]) {
        const membership = redstream.shardGroups.get(group);
        expect(membership?.liveInstances).toBe(1);
        expect(membership?.ownedCount).toBe(ITEM_SHARDS.count);
      }
    } finally {
      await app.close();
    }
  });

  it('works with @nestjs/typeorm: TypeOrmModule provides the DataSource, repositories write and re-read', async () => {
    const app = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'sqljs', entities: TEST_ENTITIES, synchronize: true, logging: false }),
        TypeOrmModule.forFeature([Product]),
        RedstreamModule.forRoot({
          redis: testRedisUrl(),
          namespace: uniqueNamespace('typeorm-nest'),
          logger: false,
          consumerDefaults: { blockMs: 200, lockTtlMs: 1_000, lockRefreshMs: 300, standbyPollMs: 100 },
        }),
        RedstreamTypeOrmModule.forRoot(),
      ],
      providers: [ProductNames],
    }).compile();
    await app.init();
    try {
      const products = app.get<Repository<Product>>(getRepositoryToken(Product));
      const names = app.get(ProductNames);
      const kept = await products.save({ name: 'kept' });
      const removed = await products.save({ name: 'removed' });
      const removedId = removed.id;
      kept.name = 'renamed';
      await products.save(kept);
      await products.remove(removed);
      await waitFor(() => names.names.get(kept.id) === 'renamed' && names.names.get(removedId) === null);
    } finally {
      await app.close();
    }
  });
});
