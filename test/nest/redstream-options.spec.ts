import { Injectable } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import {
  consumerLockName,
  Producer,
  RedstreamConsumer,
  RedstreamDelayer,
  RedstreamKeys,
  RedstreamMessage,
  RedstreamModule,
  RedstreamRegistry,
  TrimResult,
} from '../../lib';
import { connectTestRedis, sleep, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { compileRedstreamApp, FAST_WORKERS, RecordingLogger } from './nest-test-helpers';

type IdPayload = { id: number };
const ids = (messages: RedstreamMessage<IdPayload>[]): number[] => messages.map((message) => message.payload.id);

@Injectable()
class ProductHandlers {
  readonly batches: number[][] = [];
  readonly cached: number[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'indexer', batchSize: 100 })
  index(messages: RedstreamMessage<IdPayload>[]): void {
    this.batches.push(ids(messages));
  }

  @RedstreamConsumer({ stream: 'products', name: 'cacher' })
  cache(messages: RedstreamMessage<IdPayload>[]): void {
    this.cached.push(...ids(messages));
  }
}

describe('RedstreamModule options', () => {
  let redis: Redis;
  let namespace: string;
  let keys: RedstreamKeys;
  let app: TestingModule | undefined;
  beforeEach(() => {
    redis = connectTestRedis();
    namespace = uniqueNamespace('nest');
    keys = new RedstreamKeys(namespace);
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await redis.quit();
  });

  it('forRootAsync takes its options from ConfigService', async () => {
    app = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ REDSTREAM_REDIS_URL: testRedisUrl(), REDSTREAM_NAMESPACE: namespace })],
        }),
        RedstreamModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            redis: config.getOrThrow<string>('REDSTREAM_REDIS_URL'),
            namespace: config.getOrThrow<string>('REDSTREAM_NAMESPACE'),
            logger: false,
            consumerDefaults: FAST_WORKERS,
          }),
        }),
      ],
      providers: [ProductHandlers],
    }).compile();
    await app.init();

    await app.get(Producer).queue('products', [{ id: 1 }, { id: 2 }]);
    await waitFor(() => app!.get(ProductHandlers).cached.length === 2);
    // The namespace from the configuration is the one in use.
    expect(await redis.xlen(keys.stream('products'))).toBeGreaterThanOrEqual(1);
  });

  it('leaves a Redis client supplied by the application open after close', async () => {
    const client = new Redis(testRedisUrl());
    app = await compileRedstreamApp({ providers: [ProductHandlers], options: { namespace, redis: client } });
    await app.init();
    await app.get(Producer).queue('products', { id: 1 });
    await waitFor(() => app!.get(ProductHandlers).cached.length === 1);

    await app.close();
    app = undefined;
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });

  it('applies handler overrides from the options: enabled false and batchSize', async () => {
    const logger = new RecordingLogger();
    app = await compileRedstreamApp({
      providers: [ProductHandlers],
      options: {
        namespace,
        logger,
        handlers: {
          'products:indexer': { batchSize: 2 },
          'products:cacher': { enabled: false },
          'products:typo': { batchSize: 5 },
        },
      },
    });
    await app.init();
    const registry = app.get(RedstreamRegistry);
    const handlers = app.get(ProductHandlers);
    expect(registry.consumers().map((consumer) => consumer.name)).toEqual(['indexer']);
    expect(registry.getConsumer('products', 'cacher')).toBeUndefined();

    await app.get(Producer).queue('products', [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }]);
    await waitFor(() => handlers.batches.flat().length === 5);
    expect(handlers.batches.every((batch) => batch.length <= 2)).toBe(true);
    expect(handlers.batches.flat()).toEqual([1, 2, 3, 4, 5]);
    // An absence: the disabled consumer must consume nothing during a window.
    await sleep(300);
    expect(handlers.cached).toEqual([]);
    expect(await redis.get(keys.offset('products', 'cacher'))).toBeNull();
    expect(logger.messages('warn')).toEqual(
      expect.arrayContaining([expect.stringContaining('handlers["products:typo"] matches no')]),
    );
  });

  it('backgroundServices false starts nothing, while the Producer works', async () => {
    @Injectable()
    class AllKinds extends ProductHandlers {
      @RedstreamDelayer({ stream: 'products', delay: 100 })
      onDue(): void {}
    }
    const logger = new RecordingLogger();
    app = await compileRedstreamApp({
      providers: [AllKinds],
      options: { namespace, logger, backgroundServices: false, trimmer: { schedule: 100 } },
    });
    await app.init();
    const registry = app.get(RedstreamRegistry);
    expect(registry.consumers()).toEqual([]);
    expect(registry.delayers()).toEqual([]);
    expect(registry.trimmers()).toEqual([]);
    registry.start();

    const producer = app.get(Producer);
    await producer.queue('products', [{ id: 1 }, { id: 2 }]);
    await producer.delay('products', { id: 3 });
    expect(await redis.xlen(keys.stream('products'))).toBe(2);
    // An absence: nothing may consume, re-queue or trim during a window of several delays and
    // trim intervals (100 ms each).
    await sleep(500);
    const handlers = app.get(AllKinds);
    expect(handlers.batches).toEqual([]);
    expect(handlers.cached).toEqual([]);
    expect(await redis.xlen(keys.stream('products'))).toBe(2);
    expect(await redis.xlen(keys.delayStream('products'))).toBe(1);
    expect(await redis.keys(`${namespace}:redstream:lock:*`)).toEqual([]);
    expect(await redis.exists(keys.consumerRegistry('products'))).toBe(0);
    expect(logger.messages('log')).toEqual(
      expect.arrayContaining([expect.stringContaining('backgroundServices is false: 3 stream handler(s)')]),
    );
  });

  it('autoStart false waits for RedstreamRegistry.start(), and stop()/start() work for all and for one', async () => {
    app = await compileRedstreamApp({ providers: [ProductHandlers], options: { namespace, autoStart: false } });
    await app.init();
    const registry = app.get(RedstreamRegistry);
    const handlers = app.get(ProductHandlers);
    const producer = app.get(Producer);
    await producer.queue('products', { id: 1 });
    // An absence: nothing may consume before start() during a window.
    await sleep(300);
    expect(handlers.cached).toEqual([]);
    expect(registry.getConsumer('products', 'cacher')?.isRunning).toBe(false);

    registry.start();
    await waitFor(() => handlers.cached.length === 1 && handlers.batches.length === 1);

    await registry.stop();
    expect(registry.consumers().some((consumer) => consumer.isRunning)).toBe(false);
    expect(await redis.exists(keys.lock(consumerLockName('products', 'cacher')))).toBe(0);
    await producer.queue('products', { id: 2 });
    // An absence: nothing may consume after stop() during a window.
    await sleep(300);
    expect(handlers.cached).toEqual([1]);

    // One consumer only: it resumes from the committed offset (same object: redstream-restart.spec.ts).
    registry.start('products', 'cacher');
    await waitFor(() => handlers.cached.length === 2);
    expect(registry.getConsumer('products', 'indexer')?.isRunning).toBe(false);
    expect(handlers.batches.flat()).toEqual([1]);

    await registry.stop('products', 'cacher');
    expect(registry.getConsumer('products', 'cacher')?.isRunning).toBe(false);
    expect(() => registry.start('products', 'nobody')).toThrow('no consumer "nobody"');
  });

  it.each([
    ['an interval', 200],
    ['a cron expression', '* * * * * *'],
  ])('trims committed entries on a schedule: %s', async (_kind, schedule) => {
    app = await compileRedstreamApp({
      providers: [ProductHandlers],
      options: { namespace, trimmer: { schedule, consumerNames: { products: ['reporting'] } } },
    });
    await app.init();
    const registry = app.get(RedstreamRegistry);
    expect(registry.trimmers().map((trimmer) => trimmer.stream)).toEqual(['products']);
    // Observes the scheduled runs (the real method runs): both schedules call it on the instance.
    const trimRuns = jest.spyOn(registry.trimmers()[0], 'trimOnce');

    const producer = app.get(Producer);
    const queued = await producer.queue('products', [{ id: 1 }, { id: 2 }, { id: 3 }]);
    const committedAll = async (name: string): Promise<boolean> =>
      (await redis.get(keys.offset('products', name))) === queued[2];
    await waitFor(async () => (await committedAll('indexer')) && (await committedAll('cacher')));
    // A configured consumer that has not committed holds trimming back: a run that starts
    // after both handlers committed trims nothing, and says why.
    const runsBefore = trimRuns.mock.results.length;
    const laterRun = await waitFor(() => trimRuns.mock.results[runsBefore]?.value as Promise<TrimResult> | undefined);
    expect(laterRun).toMatchObject({ trimmed: 0, skipped: 'consumer-without-offset' });
    expect(await redis.xlen(keys.stream('products'))).toBe(3);

    await redis.set(keys.offset('products', 'reporting'), queued[1]);
    await waitFor(async () => (await redis.xlen(keys.stream('products'))) === 1, 5_000);
    const [[remaining]] = await redis.xrange(keys.stream('products'), '-', '+');
    expect(remaining).toBe(queued[2]);
  });
});
