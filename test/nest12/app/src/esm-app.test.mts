// An ESM NestJS 12 application (`import`, as NestJS 12's own starter is): it imports NestJS
// natively while the CommonJS library require()s the same ESM modules, which Node must hand out
// as one module instance, or Nest's injector would not recognise the library's classes.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as nestCommon from '@nestjs/common';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Producer, RedstreamConsumer, RedstreamMessage, RedstreamModule, RedstreamRegistry } from '@redstream/nestjs';
import { FAST_WORKERS } from './support/fast-workers.js';
import { assertOneNestjs, uniqueNamespace, waitFor } from './support/fresh-app-helpers.js';
import { RedisServerHandle, startRedisServer } from './support/redis-server.js';

const appResolve = (specifier: string): string => fileURLToPath(import.meta.resolve(specifier));

@Injectable()
class CacheWarmer {
  readonly received: RedstreamMessage<{ id: number }>[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'cacher' })
  warm(messages: RedstreamMessage<{ id: number }>[]): void {
    this.received.push(...messages);
  }
}

describe('an ESM application on NestJS 12', () => {
  let redis: RedisServerHandle;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());

  it('imports the NestJS 12 module instance that the library require()s', () => {
    assertOneNestjs(appResolve, { major: 12, esmOnly: true });
    const library = createRequire(appResolve('@redstream/nestjs'));
    assert.equal(library('@nestjs/common'), nestCommon, 'require(esm) must return the imported namespace');
  });

  it('boots; the decorated consumer receives what the Producer queued, and stops with the app', async () => {
    @Module({
      imports: [
        RedstreamModule.forRoot({
          redis: redis.url,
          namespace: uniqueNamespace('nest12'),
          logger: false,
          consumerDefaults: FAST_WORKERS,
        }),
      ],
      providers: [CacheWarmer],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
    const registry = app.get(RedstreamRegistry);
    try {
      await app.get(Producer).queue('products', [{ id: 1 }, { id: 2 }]);
      const warmer = app.get(CacheWarmer);
      await waitFor(() => warmer.received.length === 2);
      assert.deepEqual(
        warmer.received.map((message) => message.payload.id),
        [1, 2],
      );
      assert.equal(registry.getConsumer('products', 'cacher')?.isActive, true);
    } finally {
      await app.close();
    }
    assert.equal(registry.getConsumer('products', 'cacher')?.isActive, false);
  });
});
