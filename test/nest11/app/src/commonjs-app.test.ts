// A fresh NestJS 11 application (CommonJS, what the Nest 11 starter compiles to), run by Node's
// own loader against the packed library installed next to it in .nest11/.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Producer,
  Redstream,
  RedstreamConsumer,
  RedstreamMessage,
  RedstreamModule,
  RedstreamRegistry,
} from '@redstream/nestjs';
import { assertOneNestjs, uniqueNamespace, waitFor } from './support/fresh-app-helpers';
import { RedisServerHandle, startRedisServer } from './support/redis-server';

const appRequire = createRequire(__filename);

@Injectable()
class ProductIndexer {
  readonly received: RedstreamMessage<{ id: number }>[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'indexer', blockMs: 500, lockTtlMs: 1_000, lockRefreshMs: 300 })
  index(messages: RedstreamMessage<{ id: number }>[]): void {
    this.received.push(...messages);
  }
}

describe('a CommonJS application on NestJS 11', () => {
  let redis: RedisServerHandle;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());

  it('loads the packed library, and it shares NestJS 11, rxjs and reflect-metadata with the app', () => {
    assertOneNestjs(appRequire.resolve, { major: 11 });
  });

  it('boots; the decorated consumer receives what the injected Producer queued, and stops with the app', async () => {
    @Module({
      imports: [
        RedstreamModule.forRoot({
          redis: redis.url,
          namespace: uniqueNamespace('nest11'),
          logger: false,
        }),
      ],
      providers: [ProductIndexer],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
    const registry = app.get(RedstreamRegistry);
    try {
      const [id] = await app.get(Producer).queue('products', { id: 7 });
      const indexer = app.get(ProductIndexer);
      await waitFor(() => indexer.received.length === 1);
      assert.deepEqual(indexer.received[0].payload, { id: 7 });
      await waitFor(async () => (await app.get(Redstream).committedOffset('products', 'indexer')) === id);
    } finally {
      await app.close();
    }
    assert.equal(registry.getConsumer('products', 'indexer')?.isActive, false);
  });
});
