import { Inject, Injectable, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import Redis from 'ioredis';
import {
  RedstreamConfigError,
  RedstreamConsumer,
  RedstreamDelayer,
  RedstreamGroupConsumer,
  RedstreamMessage,
} from '../../lib';
import type {
  RedstreamConsumerOptions,
  RedstreamDelayerOptions,
  RedstreamGroupConsumerOptions,
  RedstreamModuleOptions,
} from '../../lib';
import { RedisServerHandle, startRedisServer } from '../support/redis-server';
import { sleep, waitFor } from '../support/test-redis';
import { compileRedstreamApp } from './nest-test-helpers';

let server: RedisServerHandle;
let monitor: Redis;
beforeAll(async () => {
  // A server of its own, so that counting its connections counts only this file's.
  server = await startRedisServer();
  monitor = new Redis(server.url);
});
afterAll(async () => {
  await monitor.quit();
  await server.stop();
});

async function connectedClients(): Promise<number> {
  const info = await monitor.info('clients');
  return Number(/connected_clients:(\d+)/.exec(info)?.[1]);
}

/** Compiles an app with the given providers and expects its bootstrap to fail with `message`. */
async function expectBootstrapError(
  providers: Parameters<typeof compileRedstreamApp>[0]['providers'],
  message: string | RegExp,
  options: RedstreamModuleOptions = {},
): Promise<void> {
  const app = await compileRedstreamApp({ providers, options: { redis: server.url, ...options } });
  const failure = app.init();
  await expect(failure).rejects.toThrow(RedstreamConfigError);
  await expect(failure).rejects.toThrow(message);
  // The failed bootstrap closed what it had opened: nothing keeps the process alive.
  await waitFor(async () => (await connectedClients()) === 1, 2_000);
}

// Decorators do not apply to members of class expressions, hence declarations renamed afterwards.
function named<T extends abstract new () => object>(cls: T, className: string): T {
  Object.defineProperty(cls, 'name', { value: className });
  return cls;
}

function consumerClass(className: string, options: Partial<RedstreamConsumerOptions>): new () => object {
  @Injectable()
  class Handlers {
    @RedstreamConsumer(options as RedstreamConsumerOptions)
    handle(messages: RedstreamMessage[]): number {
      return messages.length;
    }
  }
  return named(Handlers, className);
}

function delayerClass(className: string, options: Partial<RedstreamDelayerOptions>): new () => object {
  @Injectable()
  class Handlers {
    @RedstreamDelayer(options as RedstreamDelayerOptions)
    onDue(messages: RedstreamMessage[]): number {
      return messages.length;
    }
  }
  return named(Handlers, className);
}

function groupConsumerClass(className: string, options: Partial<RedstreamGroupConsumerOptions>): new () => object {
  @Injectable()
  class Handlers {
    @RedstreamGroupConsumer(options as RedstreamGroupConsumerOptions)
    work(messages: RedstreamMessage[]): number {
      return messages.length;
    }
  }
  return named(Handlers, className);
}

describe('RedstreamModule bootstrap errors name Class.method', () => {
  it('a consumer without stream', async () => {
    await expectBootstrapError(
      [consumerClass('NoStream', { name: 'indexer' })],
      '@RedstreamConsumer() on NoStream.handle has no "stream"',
    );
  });

  it('a consumer without name', async () => {
    await expectBootstrapError(
      [consumerClass('NoName', { stream: 'products' })],
      '@RedstreamConsumer() on NoName.handle has no "name"',
    );
  });

  it('a delayer without stream or delay', async () => {
    await expectBootstrapError(
      [delayerClass('NoDelayStream', { delay: 1000 })],
      '@RedstreamDelayer() on NoDelayStream.onDue has no "stream"',
    );
    await expectBootstrapError(
      [delayerClass('NoDelay', { stream: 'products' })],
      '@RedstreamDelayer() on NoDelay.onDue has no "delay"',
    );
  });

  it('two handlers for one (stream, name), in one class or two', async () => {
    await expectBootstrapError(
      [
        consumerClass('FirstIndexer', { stream: 'products', name: 'indexer' }),
        consumerClass('SecondIndexer', { stream: 'products', name: 'indexer' }),
      ],
      /"products" as "indexer": FirstIndexer\.handle and SecondIndexer\.handle/,
    );

    @Injectable()
    class TwoInOne {
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      first(): void {}
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      second(): void {}
    }
    await expectBootstrapError([TwoInOne], /TwoInOne\.first and TwoInOne\.second/);
  });

  it('the same handler class provided twice under different tokens', async () => {
    const Indexer = consumerClass('TwiceIndexer', { stream: 'products', name: 'indexer' });
    await expectBootstrapError(
      [Indexer, { provide: 'ANOTHER_INDEXER', useClass: Indexer }],
      /TwiceIndexer\.handle and TwiceIndexer\.handle/,
    );
  });

  it('two delayers for one stream', async () => {
    await expectBootstrapError(
      [
        delayerClass('FastDelayer', { stream: 'products', delay: 1000 }),
        delayerClass('SlowDelayer', { stream: 'products', delay: '5m' }),
      ],
      /Two delayers serve stream "products": FastDelayer\.onDue and SlowDelayer\.onDue/,
    );
  });

  it('a handler on a request-scoped provider, or on one that depends on a request-scoped provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class RequestScopedIndexer {
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      handle(): void {}
    }
    await expectBootstrapError([RequestScopedIndexer], /on RequestScopedIndexer\.handle .* request-scoped/);

    @Injectable()
    class RequestAwareIndexer {
      constructor(@Inject(REQUEST) readonly request: unknown) {}
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      handle(): void {}
    }
    await expectBootstrapError([RequestAwareIndexer], /on RequestAwareIndexer\.handle .* request-scoped/);
  });

  it('a handler on a transient provider', async () => {
    @Injectable({ scope: Scope.TRANSIENT })
    class TransientIndexer {
      @RedstreamConsumer({ stream: 'products', name: 'indexer' })
      handle(): void {}
    }
    await expectBootstrapError([TransientIndexer], /on TransientIndexer\.handle .* transient/);
  });

  it('a bad delay', async () => {
    await expectBootstrapError(
      [delayerClass('WordyDelayer', { stream: 'products', delay: 'five minutes' })],
      /@RedstreamDelayer\(\) on WordyDelayer\.onDue is invalid: .*delay must be milliseconds or a duration/,
    );
    await expectBootstrapError(
      [delayerClass('NegativeDelayer', { stream: 'products', delay: -1 })],
      /NegativeDelayer\.onDue is invalid: .*delay must be a non-negative number/,
    );
  });

  it('invalid worker options, stream and consumer names', async () => {
    await expectBootstrapError(
      [consumerClass('NegativeBatch', { stream: 'products', name: 'indexer', batchSize: -5 })],
      /@RedstreamConsumer\(\) on NegativeBatch\.handle is invalid: .*batchSize must be a positive integer, got -5/,
    );
    await expectBootstrapError(
      [consumerClass('BadRefresh', { stream: 'products', name: 'indexer', lockTtlMs: 1000, lockRefreshMs: 2000 })],
      /BadRefresh\.handle is invalid: .*lockRefreshMs \(2000\) must be below lockTtlMs/,
    );
    await expectBootstrapError(
      [consumerClass('ZeroTimeout', { stream: 'products', name: 'indexer', handlerTimeoutMs: 0 })],
      /ZeroTimeout\.handle is invalid: .*handlerTimeoutMs/,
    );
    await expectBootstrapError(
      [consumerClass('ColonStream', { stream: 'shop:products', name: 'indexer' })],
      /ColonStream\.handle is invalid: Stream name "shop:products"/,
    );
    await expectBootstrapError(
      [consumerClass('DelayStream', { stream: 'products.delay', name: 'indexer' })],
      /DelayStream\.handle is invalid: .*must not end with "\.delay"/,
    );
    await expectBootstrapError(
      [consumerClass('ReservedName', { stream: 'products', name: 'delayer' })],
      /ReservedName\.handle uses the name "delayer"/,
    );
    await expectBootstrapError(
      [delayerClass('DelayerBatch', { stream: 'products', delay: 100, batchSize: 0 })],
      /@RedstreamDelayer\(\) on DelayerBatch\.onDue is invalid: .*batchSize must be a positive integer/,
    );
  });

  it('invalid values from consumerDefaults and handler overrides still name the handler', async () => {
    await expectBootstrapError(
      [consumerClass('DefaultsVictim', { stream: 'products', name: 'indexer' })],
      /DefaultsVictim\.handle is invalid: .*blockMs must be a positive integer, got -1/,
      { consumerDefaults: { blockMs: -1 } },
    );
    await expectBootstrapError(
      [consumerClass('OverrideVictim', { stream: 'products', name: 'indexer' })],
      /OverrideVictim\.handle is invalid: .*batchSize must be a positive integer, got 0/,
      { handlers: { 'products:indexer': { batchSize: 0 } } },
    );
    await expectBootstrapError(
      [delayerClass('OverrideDelay', { stream: 'products', delay: 100 })],
      /OverrideDelay\.onDue is invalid: .*delay/,
      { handlers: { 'products:delayer': { delay: 'soon' } } },
    );
  });

  it('invalid module options', async () => {
    const Indexer = consumerClass('AnyIndexer', { stream: 'products', name: 'indexer' });
    const cases: [RedstreamModuleOptions, RegExp][] = [
      [
        { trimmer: { schedule: '61 * * * *' } },
        /option "trimmer.schedule" is invalid: "61 \* \* \* \*" is not a valid cron/,
      ],
      [{ trimmer: { schedule: 'soon' } }, /option "trimmer.schedule" is invalid/],
      [{ trimmer: { schedule: 0 } }, /option "trimmer.schedule" is invalid/],
      [{ trimmer: { consumerNames: { products: ['has space'] } } }, /option "trimmer.consumerNames\["products"\]"/],
      [{ drainTimeoutMs: -1 }, /option "drainTimeoutMs" is invalid/],
      [{ blockingReads: 'pooled' as never }, /option "blockingReads" is invalid: it must be 'shared' or 'per-worker'/],
      [{ lockExpiryEvents: 'yes' as never }, /option "lockExpiryEvents" is invalid: it must be 'listen'/],
      [{ redis: 'http://127.0.0.1:6379' }, /option "redis" is invalid: expected a redis:\/\/ or rediss:\/\/ URL/],
      [{ redis: 6379 as never }, /option "redis" is invalid: .*got 6379/],
      [{ namespace: 'my app' }, /option "namespace" is invalid: Namespace "my app"/],
      [{ handlers: { products: { enabled: false } } }, /option "handlers\["products"\]" is invalid/],
      [
        { handlers: { 'products:indexer': { delay: 100 } } },
        /handlers\["products:indexer"\]\.delay" is invalid: a consumer has no delay/,
      ],
    ];
    for (const [options, message] of cases) {
      // Module options fail while the providers are created, before anything connects.
      await expect(compileRedstreamApp({ providers: [Indexer], options }).then((app) => app.init())).rejects.toThrow(
        message,
      );
    }
  });
  it('leaves no Redis connection open when another provider fails the bootstrap', async () => {
    @Injectable()
    class FailingRepository {
      onModuleInit(): void {
        throw new Error('database unreachable');
      }
    }
    const Indexer = consumerClass('HealthyIndexer', { stream: 'products', name: 'indexer' });
    const app = await compileRedstreamApp({ providers: [Indexer, FailingRepository], options: { redis: server.url } });
    await expect(app.init()).rejects.toThrow('database unreachable');
    // The Producer and the engine were created; owned connections open on their first
    // command, so none was opened and nothing keeps the process alive. An absence: no
    // connection may appear during a window after the failure.
    await sleep(200);
    expect(await connectedClients()).toBe(1);
  });
});

describe('@RedstreamGroupConsumer bootstrap errors name Class.method', () => {
  it('a group consumer without stream or group', async () => {
    await expectBootstrapError(
      [groupConsumerClass('NoGroupStream', { group: 'workers' })],
      '@RedstreamGroupConsumer() on NoGroupStream.work has no "stream"',
    );
    await expectBootstrapError(
      [groupConsumerClass('NoGroup', { stream: 'events' })],
      '@RedstreamGroupConsumer() on NoGroup.work has no "group"',
    );
  });

  it('a group named like a consumer of the same stream, both methods named; two methods in one group', async () => {
    await expectBootstrapError(
      [
        consumerClass('OffsetIndexer', { stream: 'events', name: 'indexer' }),
        groupConsumerClass('GroupIndexer', { stream: 'events', group: 'indexer' }),
      ],
      /consumer and a consumer group both named "indexer": @RedstreamConsumer\(\) on OffsetIndexer\.handle and @RedstreamGroupConsumer\(\) on GroupIndexer\.work/,
    );
    await expectBootstrapError(
      [
        groupConsumerClass('FirstWorkers', { stream: 'events', group: 'workers' }),
        groupConsumerClass('SecondWorkers', { stream: 'events', group: 'workers' }),
      ],
      /stream "events" in group "workers": FirstWorkers\.work and SecondWorkers\.work/,
    );
  });

  it('a reserved or malformed group name, and invalid group options', async () => {
    await expectBootstrapError(
      [groupConsumerClass('DelayerGroup', { stream: 'events', group: 'delayer' })],
      /@RedstreamGroupConsumer\(\) on DelayerGroup\.work uses the name "delayer".*choose another group/,
    );
    await expectBootstrapError(
      [groupConsumerClass('ColonGroup', { stream: 'events', group: 'a:b' })],
      /@RedstreamGroupConsumer\(\) on ColonGroup\.work is invalid: .*"a:b"/,
    );
    await expectBootstrapError(
      [groupConsumerClass('NegativeDeliveries', { stream: 'events', group: 'workers', maxDeliveries: -1 })],
      /@RedstreamGroupConsumer\(\) on NegativeDeliveries\.work is invalid: .*maxDeliveries/,
    );
    await expectBootstrapError(
      [groupConsumerClass('ZeroBatch', { stream: 'events', group: 'workers' })],
      /ZeroBatch\.work is invalid: .*batchSize must be a positive integer, got 0/,
      { handlers: { 'events:workers': { batchSize: 0 } } },
    );
  });

  it('overrides a group consumer does not take', async () => {
    const Workers = groupConsumerClass('AnyWorkers', { stream: 'events', group: 'workers' });
    const cases: [RedstreamModuleOptions, RegExp][] = [
      [
        { handlers: { 'events:workers': { lockTtlMs: 2_000 } } },
        /handlers\["events:workers"\]\.lockTtlMs" is invalid: a group consumer has no lockTtlMs/,
      ],
      [
        { handlers: { 'events:workers': { delay: 100 } } },
        /handlers\["events:workers"\]\.delay" is invalid: a group consumer has no delay/,
      ],
      [{ trimmer: { groupNames: { events: ['has space'] } } }, /option "trimmer.groupNames\["events"\]"/],
    ];
    for (const [options, message] of cases) {
      await expect(compileRedstreamApp({ providers: [Workers], options }).then((app) => app.init())).rejects.toThrow(
        message,
      );
    }
    await expect(
      compileRedstreamApp({
        providers: [consumerClass('OffsetOnly', { stream: 'events', name: 'indexer' })],
        options: { handlers: { 'events:indexer': { maxDeliveries: 3 } } },
      }).then((app) => app.init()),
    ).rejects.toThrow(/handlers\["events:indexer"\]\.maxDeliveries" is invalid: a consumer has no maxDeliveries/);
  });
});
