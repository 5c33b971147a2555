// A fresh NestJS 10 application (CommonJS, what the Nest 10 starter compiles to) with
// reflect-metadata 0.1, the older half of our peer range, run by Node's own loader against the
// packed library installed next to it in .nest10/. Besides booting and consuming, it checks
// the two optional entry points with NestJS 10's own packages, whose shapes differ from 11's:
// the health indicator through terminus 10 (no HealthIndicatorService there; a down result is
// a thrown HealthCheckError) and the microservice transport (Server and ClientProxy of 10).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { Controller, Module, ServiceUnavailableException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { HealthCheckResult, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Redstream, RedstreamModule, RedstreamRegistry } from '@redstream/nestjs';
import { RedstreamClient, RedstreamEventContext, RedstreamServer } from '@redstream/nestjs/microservices';
import { RedstreamHealthIndicator } from '@redstream/nestjs/terminus';
import { lastValueFrom } from 'rxjs';
import { FAST_WORKERS } from './support/fast-workers';
import {
  assertBootsConsumesAndStops,
  assertOneNestjs,
  installedVersion,
  ProductIndexer,
  uniqueNamespace,
  waitFor,
} from './support/fresh-app-helpers';
import { RedisServerHandle, startRedisServer } from './support/redis-server';

const appRequire = createRequire(__filename);

describe('a CommonJS application on NestJS 10 with reflect-metadata 0.1', () => {
  let redis: RedisServerHandle;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());

  it('loads the packed library, and it shares NestJS 10, rxjs and reflect-metadata 0.1 with the app', () => {
    assertOneNestjs(appRequire.resolve, { major: 10, alsoNestjs: ['@nestjs/microservices', '@nestjs/terminus'] });
    assert.match(installedVersion(appRequire.resolve, 'reflect-metadata'), /^0\.1\./, 'reflect-metadata must be 0.1');
  });

  it('boots; the decorated consumer receives what the injected Producer queued, and stops with the app', async () => {
    await assertBootsConsumesAndStops(redis.url, 'nest10');
  });

  it("reports health through terminus 10's HealthCheckService: up with a running consumer, down once it stops", async () => {
    @Module({
      imports: [
        TerminusModule.forRoot({ logger: false }),
        RedstreamModule.forRoot({
          redis: redis.url,
          namespace: uniqueNamespace('nest10'),
          logger: false,
          consumerDefaults: FAST_WORKERS,
        }),
      ],
      providers: [ProductIndexer, RedstreamHealthIndicator],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
    /** What terminus answers, as the HTTP body (200 or 503). */
    const check = async (): Promise<HealthCheckResult> => {
      const indicator = app.get(RedstreamHealthIndicator);
      try {
        return await app.get(HealthCheckService).check([() => indicator.isHealthy('redstream')]);
      } catch (error) {
        if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
        throw error;
      }
    };
    try {
      const registry = app.get(RedstreamRegistry);
      await waitFor(() => registry.getConsumer('products', 'indexer')?.isActive === true);

      const healthy = await check();
      assert.equal(healthy.status, 'ok');
      assert.deepEqual(healthy.details.redstream.status, 'up');
      assert.deepEqual(healthy.details.redstream.handlers, { total: 1, active: 1, standby: 0 });

      await registry.stop('products', 'indexer');
      const stopped = await check();
      assert.equal(stopped.status, 'error');
      assert.equal(stopped.error?.redstream.status, 'down');
      assert.match(String(stopped.error?.redstream.failing[0].reasons[0]), /^not running/);
    } finally {
      await app.close();
    }
  });

  it("serves an @EventPattern handler of a hybrid app from RedstreamClient's emits, on NestJS 10's transport classes", async () => {
    const namespace = uniqueNamespace('nest10');
    const events: { id: number; entry: string; pattern: string }[] = [];

    @Controller()
    class BillingController {
      @EventPattern('orders')
      bill(@Payload() data: { id: number }, @Ctx() context: RedstreamEventContext): void {
        events.push({ id: data.id, entry: context.getId(), pattern: context.getPattern() });
      }
    }

    @Module({ controllers: [BillingController] })
    class AppModule {}

    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    const server = new RedstreamServer({
      redis: redis.url,
      namespace,
      logger: false,
      consumer: 'billing',
      consumerOptions: FAST_WORKERS,
    });
    const client = new RedstreamClient({ redis: redis.url, namespace, logger: false });
    try {
      app.connectMicroservice({ strategy: server });
      await app.startAllMicroservices();
      await app.init();

      const first = await lastValueFrom(client.emit('orders', { id: 1 }));
      const second = await lastValueFrom(client.emit('orders', { id: 2 }));
      await waitFor(() => events.length >= 2);
      assert.deepEqual(events, [
        { id: 1, entry: first, pattern: 'orders' },
        { id: 2, entry: second, pattern: 'orders' },
      ]);
      const engine = server.unwrap<Redstream>();
      await waitFor(async () => (await engine.committedOffset('orders', 'billing')) === second);
    } finally {
      await client.close();
      await app.close();
    }
    // app.close() closed the transport too: its engine's connection ends (after QUIT's reply).
    await waitFor(() => server.unwrap<Redstream>().client.status === 'end');
  });
});
