import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { Producer, Redstream, silentLogger } from '../../lib/engine';
import { RedstreamSubscriber, RedstreamTypeOrmModule } from '../../lib/typeorm';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';
import { streamPayloads } from './support/redstream-test-streams';
import { openTestDatabase, TestDatabase } from './support/typeorm-test-data-source';
import { Product } from './support/typeorm-test-entities';

describe('RedstreamTypeOrmModule', () => {
  let database: TestDatabase;
  let redstream: Redstream;

  beforeEach(async () => {
    database = await openTestDatabase('sqljs');
    redstream = new Redstream({
      redis: testRedisUrl(),
      namespace: uniqueNamespace('typeorm-nest'),
      logger: silentLogger,
    });
  });
  afterEach(async () => {
    await redstream.close();
    await database.close();
  });

  it('attaches the subscriber to the DataSource and Producer the application provides, and detaches it on close', async () => {
    // What TypeOrmModule.forRoot() and RedstreamModule.forRoot() provide, under the same tokens.
    @Global()
    @Module({
      providers: [
        { provide: DataSource, useValue: database.dataSource },
        { provide: Producer, useValue: redstream.producer() },
      ],
      exports: [DataSource, Producer],
    })
    class InfrastructureModule {}

    const app = await Test.createTestingModule({
      imports: [InfrastructureModule, RedstreamTypeOrmModule.forRoot({ logger: silentLogger })],
    }).compile();
    await app.init();
    const subscriber = app.get(RedstreamSubscriber);
    expect(database.dataSource.subscribers).toContain(subscriber);

    const product = await database.dataSource.getRepository(Product).save({ name: 'via Nest' });
    expect(await streamPayloads(redstream, 'products')).toEqual([{ id: product.id }]);

    await app.close();
    expect(database.dataSource.subscribers).not.toContain(subscriber);
  });

  it('takes other tokens and the modules that provide them', async () => {
    const PRIMARY = 'PRIMARY_DATA_SOURCE';
    const WRITER = Symbol('writer');
    @Module({
      providers: [
        { provide: PRIMARY, useValue: database.dataSource },
        { provide: WRITER, useValue: redstream.producer() },
      ],
      exports: [PRIMARY, WRITER],
    })
    class DatabaseModule {}

    const app = await Test.createTestingModule({
      imports: [
        RedstreamTypeOrmModule.forRoot({
          dataSource: PRIMARY,
          producer: WRITER,
          imports: [DatabaseModule],
          logger: silentLogger,
        }),
      ],
    }).compile();
    await app.init();
    await database.dataSource.getRepository(Product).save({ name: 'named data source' });
    expect(await redstream.streamLength('products')).toBe(1);
    await app.close();
  });
});
