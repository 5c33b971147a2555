// Shared by every fresh application (scripts/nest12/run-nest12-tests.sh copies it into
// .nest11/src/ and .nest12/src/): a user's e2e and unit tests written with the installed
// package's `@redstream/nestjs/testing` and `@nestjs/testing`, under Node's own test runner.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import {
  Producer,
  RedstreamConsumer,
  RedstreamError,
  RedstreamGroupConsumer,
  RedstreamMessage,
  RedstreamModule,
} from '@redstream/nestjs';
import { RedstreamDrainTimeoutError, redstreamTesting } from '@redstream/nestjs/testing';
import { FAST_WORKERS } from './support/fast-workers';
import { RedisServerHandle, startRedisServer } from './support/redis-server';

@Injectable()
class Indexer {
  readonly indexed: number[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'indexer' })
  index(messages: RedstreamMessage<{ id: number }>[]): void {
    this.indexed.push(...messages.map((message) => message.payload.id));
  }
}

@Injectable()
class Mailer {
  readonly sent: number[] = [];

  @RedstreamGroupConsumer({ stream: 'products', group: 'mailers' })
  send(messages: RedstreamMessage<{ id: number }>[]): void {
    this.sent.push(...messages.map((message) => message.payload.id));
  }
}

@Injectable()
class Broken {
  @RedstreamConsumer({ stream: 'orders', name: 'broken' })
  fail(): never {
    throw new Error('always fails');
  }
}

@Injectable()
class ProductService {
  constructor(private readonly producer: Producer) {}

  async saved(id: number): Promise<void> {
    await this.producer.queue('products', { id });
  }
}

describe('@redstream/nestjs/testing from the installed package', () => {
  let redis: RedisServerHandle;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());

  function appModule(namespace: string): new () => object {
    @Module({
      imports: [
        RedstreamModule.forRoot({ redis: redis.url, namespace, logger: false, consumerDefaults: FAST_WORKERS }),
      ],
      providers: [Indexer, Mailer, Broken, ProductService],
    })
    class AppModule {}
    return AppModule;
  }

  it('drains an offset consumer and a consumer group, times out naming a failing one, flushes the namespace', async () => {
    const namespace = redstreamTesting.uniqueNamespace('fresh');
    const app = await NestFactory.createApplicationContext(appModule(namespace), { logger: false });
    try {
      for (const id of [1, 2, 3]) await app.get(ProductService).saved(id);
      await redstreamTesting.drain(app, 'products', 'indexer', { timeoutMs: 20_000 });
      assert.deepEqual(app.get(Indexer).indexed, [1, 2, 3]);
      const group = await redstreamTesting.drain(app, 'products', 'mailers', { timeoutMs: 20_000 });
      assert.equal(group.kind, 'group-consumer');
      assert.deepEqual([...app.get(Mailer).sent].sort(), [1, 2, 3]);

      await app.get(Producer).queue('orders', { id: 9 });
      await assert.rejects(
        redstreamTesting.drain(app, 'orders', 'broken', { timeoutMs: 500 }),
        (error: unknown) =>
          error instanceof RedstreamDrainTimeoutError &&
          error instanceof RedstreamError &&
          error.message.includes("consumer 'broken' of stream 'orders'") &&
          error.message.includes('it has committed nothing yet, 1 entries after it'),
      );
    } finally {
      await app.close();
    }

    const client = new Redis(redis.url);
    try {
      assert.ok((await client.keys(`${namespace}:*`)).length > 0);
      assert.ok((await redstreamTesting.flushNamespace(client, namespace)) > 0);
      assert.deepEqual(await client.keys(`${namespace}:*`), []);
    } finally {
      client.disconnect();
    }
  });

  it('unit-tests a service with the Producer overridden, without Redis', async () => {
    const queued: unknown[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [RedstreamModule.forRoot({ redis: 'redis://127.0.0.1:1', backgroundServices: false, logger: false })],
      providers: [ProductService],
    })
      .overrideProvider(Producer)
      .useValue({ queue: async (stream: string, payload: object) => queued.push({ stream, payload }) })
      .compile();
    const app = await moduleRef.init();
    try {
      await app.get(ProductService).saved(5);
      assert.deepEqual(queued, [{ stream: 'products', payload: { id: 5 } }]);
    } finally {
      await app.close();
    }
  });
});
