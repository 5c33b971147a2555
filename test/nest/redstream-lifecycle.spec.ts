import { Injectable, OnModuleInit } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import type Redis from 'ioredis';
import {
  consumerLockName,
  Producer,
  RedstreamConsumer,
  RedstreamKeys,
  RedstreamMessage,
  RedstreamRegistry,
} from '../../lib';
import { connectTestRedis, sleep, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { freePort, startRedisServer } from '../support/redis-server';
import { compileRedstreamApp, RecordingLogger } from './nest-test-helpers';

type IdPayload = { id: number };

/** A promise with its resolve function, to hold a handler in flight. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('RedstreamModule lifecycle', () => {
  let redis: Redis;
  let namespace: string;
  let keys: RedstreamKeys;
  beforeEach(() => {
    redis = connectTestRedis();
    namespace = uniqueNamespace('nest');
    keys = new RedstreamKeys(namespace);
  });
  afterEach(async () => {
    await redis.quit();
  });

  it('keeps app.close() pending while a handler is in flight, then commits and releases the lock', async () => {
    const release = deferred();
    const started = deferred();

    @Injectable()
    class SlowIndexer {
      finished = false;
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      async index(): Promise<void> {
        started.resolve();
        await release.promise;
        this.finished = true;
      }
    }

    const app = await compileRedstreamApp({ providers: [SlowIndexer], options: { namespace } });
    await app.init();
    const [id] = await app.get(Producer).queue('products', { id: 1 });
    await started.promise;

    let closed = false;
    const closing = app.close().then(() => (closed = true));
    // An absence: close() must stay pending for a while with the handler held (drainTimeoutMs
    // is 10 s), so a fixed window is the test.
    await sleep(500);
    expect(closed).toBe(false);

    release.resolve();
    await closing;
    expect(app.get(SlowIndexer).finished).toBe(true);
    expect(await redis.get(keys.offset('products', 'indexer'))).toBe(id);
    expect(await redis.exists(keys.lock(consumerLockName('products', 'indexer')))).toBe(0);
  });

  it('closes promptly when no handler is in flight, even with long blocking reads', async () => {
    @Injectable()
    class IdleHandlers {
      @RedstreamConsumer({ stream: 'products', name: 'indexer', blockMs: 10_000 })
      index(): void {}
      @RedstreamConsumer({ stream: 'orders', name: 'audit', blockMs: 10_000 })
      audit(): void {}
    }

    const app = await compileRedstreamApp({ providers: [IdleHandlers], options: { namespace } });
    await app.init();
    const registry = app.get(RedstreamRegistry);
    await waitFor(() => registry.consumers().every((consumer) => consumer.isActive));

    const startedAt = Date.now();
    await app.close();
    expect(Date.now() - startedAt).toBeLessThan(1_500);
    expect(registry.consumers().some((consumer) => consumer.isRunning)).toBe(false);
    expect(await redis.exists(keys.lock(consumerLockName('products', 'indexer')))).toBe(0);
  });

  it('stops waiting after drainTimeoutMs and says which handler is still running', async () => {
    const stuck = deferred();
    const started = deferred();

    @Injectable()
    class StuckIndexer {
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      async index(): Promise<void> {
        started.resolve();
        await stuck.promise;
      }
    }

    @Injectable()
    class IdleAudit {
      @RedstreamConsumer({ stream: 'orders', name: 'audit' })
      audit(): void {}
    }

    const logger = new RecordingLogger();
    const app = await compileRedstreamApp({
      providers: [StuckIndexer, IdleAudit],
      options: { namespace, logger, drainTimeoutMs: 300 },
    });
    await app.init();
    await app.get(Producer).queue('products', { id: 1 });
    await started.promise;

    const startedAt = Date.now();
    await app.close();
    const elapsed = Date.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
    expect(logger.messages('warn')).toEqual(
      expect.arrayContaining([expect.stringMatching(/drainTimeoutMs \(300 ms\): StuckIndexer\.index/)]),
    );
    // Only the handler in a batch is named: not the idle consumer, nor the trimmers.
    expect(logger.warnings.filter((line) => /IdleAudit|Trimmer/.test(line))).toEqual([]);
    // The batch stays uncommitted, to be delivered again.
    expect(await redis.get(keys.offset('products', 'indexer'))).toBeNull();
    stuck.resolve();
  });

  it('consumes nothing before the application is initialised', async () => {
    const redisUrl = testRedisUrl();
    await redis.xadd(keys.stream('products'), '*', 'payload', JSON.stringify({ id: 1 }));

    @Injectable()
    class SlowDependency implements OnModuleInit {
      ready = false;
      async onModuleInit(): Promise<void> {
        await sleep(300); // simulates a dependency that takes a while to get ready
        this.ready = true;
      }
    }

    @Injectable()
    class Indexer {
      readonly calls: { ids: number[]; dependencyReady: boolean }[] = [];
      constructor(private readonly dependency: SlowDependency) {}
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      index(messages: RedstreamMessage<IdPayload>[]): void {
        this.calls.push({ ids: messages.map((message) => message.payload.id), dependencyReady: this.dependency.ready });
      }
    }

    const app: TestingModule = await compileRedstreamApp({
      providers: [SlowDependency, Indexer],
      options: { namespace, redis: redisUrl },
    });
    // An absence: nothing may be consumed during a window before init().
    await sleep(500);
    expect(app.get(Indexer).calls).toEqual([]);
    expect(await redis.get(keys.offset('products', 'indexer'))).toBeNull();

    await app.init();
    await waitFor(() => app.get(Indexer).calls.length === 1);
    expect(app.get(Indexer).calls).toEqual([{ ids: [1], dependencyReady: true }]);
    await app.close();
  });

  it('starts while Redis is down, logs, and catches up once Redis is back', async () => {
    // Nothing listens on the port until the server starts below.
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;

    @Injectable()
    class Indexer {
      readonly indexed: number[] = [];
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      index(messages: RedstreamMessage<IdPayload>[]): void {
        this.indexed.push(...messages.map((message) => message.payload.id));
      }
    }

    const logger = new RecordingLogger();
    const app = await compileRedstreamApp({
      providers: [Indexer],
      options: { namespace, logger, redis: url, producer: { commandTimeoutMs: 500 } },
    });
    const startedAt = Date.now();
    await app.init();
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    await expect(app.get(Producer).queue('products', { id: 1 })).rejects.toThrow();
    await waitFor(() => logger.messages('error').length > 0, 5_000);

    const server = await startRedisServer({ port });
    try {
      await waitFor(
        () =>
          app
            .get(Producer)
            .queue('products', { id: 2 })
            .then(() => true)
            .catch(() => false),
        15_000,
        200,
      );
      await waitFor(() => app.get(Indexer).indexed.includes(2), 15_000);
      await app.close();
    } finally {
      await server.stop();
    }
  });
});
