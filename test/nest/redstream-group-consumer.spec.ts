import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import { Observable } from 'rxjs';
import {
  Producer,
  RedstreamConsumer,
  RedstreamGroupConsumer,
  RedstreamHandlerContext,
  RedstreamKeys,
  RedstreamMessage,
  RedstreamRegistry,
} from '../../lib';
import type { RedstreamModuleOptions } from '../../lib';
import { connectTestRedis, uniqueNamespace, waitFor } from '../support/test-redis';
import { compileRedstreamApp } from './nest-test-helpers';

type IdPayload = { id: number };
const ids = (messages: RedstreamMessage<IdPayload>[]): number[] => messages.map((message) => message.payload.id);
const range = (count: number): number[] => Array.from({ length: count }, (_, index) => index + 1);
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Group timings short enough for tests (the engine validates them). */
const FAST_GROUP = { claimIdleMs: 2_000, claimIntervalMs: 500 } as const;

@Injectable()
class EventWorkers {
  readonly handled: number[] = [];
  readonly batches: number[][] = [];
  readonly contexts: RedstreamHandlerContext[] = [];

  @RedstreamGroupConsumer({ stream: 'events', group: 'workers', batchSize: 10, ...FAST_GROUP })
  async work(messages: RedstreamMessage<IdPayload>[], context: RedstreamHandlerContext): Promise<void> {
    // Slow enough that a second member gets a share of a burst.
    await delay(5);
    this.contexts.push(context);
    this.batches.push(ids(messages));
    this.handled.push(...ids(messages));
  }
}

describe('@RedstreamGroupConsumer', () => {
  let redis: Redis;
  let namespace: string;
  let keys: RedstreamKeys;
  const apps: TestingModule[] = [];
  beforeEach(() => {
    redis = connectTestRedis();
    namespace = uniqueNamespace('nest-group');
    keys = new RedstreamKeys(namespace);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await redis.quit();
  });

  async function startApp(options: RedstreamModuleOptions = {}, providers: unknown[] = [EventWorkers]) {
    const app = await compileRedstreamApp({
      providers: providers as never[],
      options: { namespace, ...options },
    });
    apps.push(app);
    await app.init();
    return app;
  }

  const pendingCount = async (): Promise<number> =>
    Number(((await redis.xpending(keys.stream('events'), 'workers')) as [number])[0]);

  it('is discovered, handles the entries of its group through interceptors, and acks them', async () => {
    const seen: { type: string; context: unknown }[] = [];
    @Injectable()
    class RecordingInterceptor implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
        seen.push({ type: context.getType<string>(), context: context.switchToRpc().getContext() });
        return next.handle();
      }
    }
    const app = await startApp({}, [EventWorkers, { provide: APP_INTERCEPTOR, useClass: RecordingInterceptor }]);
    const registry = app.get(RedstreamRegistry);
    const groupConsumer = registry.getGroupConsumer('events', 'workers');
    expect(groupConsumer).toBeDefined();
    expect(registry.groupConsumers()).toEqual([groupConsumer]);
    expect(registry.consumers()).toEqual([]);
    expect(registry.getConsumer('events', 'workers')).toBeUndefined();

    await app.get(Producer).queue(
      'events',
      range(25).map((id) => ({ id })),
    );
    const workers = app.get(EventWorkers);
    await waitFor(() => workers.handled.length >= 25);
    expect([...new Set(workers.handled)].sort((a, b) => a - b)).toEqual(range(25));
    expect(workers.batches.every((batch) => batch.length <= 10)).toBe(true);
    expect(workers.contexts[0]).toEqual({
      kind: 'group-consumer',
      stream: 'events',
      name: 'workers',
      group: 'workers',
      member: groupConsumer!.member,
    });
    expect(seen[0]).toMatchObject({ type: 'redstream', context: { kind: 'group-consumer', group: 'workers' } });
    await waitFor(async () => (await pendingCount()) === 0);
  });

  it('applies consumerDefaults where a group consumer takes the option, and handlers["<stream>:<group>"] overrides', async () => {
    const app = await startApp({
      // lockTtlMs (from the test defaults too) means nothing to a group consumer and is left out.
      consumerDefaults: { batchSize: 50, lockTtlMs: 2_000 },
      handlers: { 'events:workers': { batchSize: 3, maxDeliveries: 4 } },
    });
    await app.get(Producer).queue(
      'events',
      range(12).map((id) => ({ id })),
    );
    const workers = app.get(EventWorkers);
    await waitFor(() => workers.handled.length >= 12);
    expect(workers.batches.every((batch) => batch.length <= 3)).toBe(true);
  });

  it('handlers { enabled: false } turns it off, and the registry starts and stops it by (stream, group)', async () => {
    const disabled = await startApp({ handlers: { 'events:workers': { enabled: false } } });
    expect(disabled.get(RedstreamRegistry).getGroupConsumer('events', 'workers')).toBeUndefined();
    await disabled.close();
    apps.splice(apps.indexOf(disabled), 1);

    const app = await startApp({ autoStart: false });
    const registry = app.get(RedstreamRegistry);
    const groupConsumer = registry.getGroupConsumer('events', 'workers')!;
    expect(groupConsumer.isRunning).toBe(false);
    registry.start('events', 'workers');
    await app.get(Producer).queue('events', { id: 1 });
    await waitFor(() => app.get(EventWorkers).handled.includes(1));
    await registry.stop('events', 'workers');
    expect(groupConsumer.isRunning).toBe(false);
  });

  it('two Nest applications sharing one group both handle its entries, each entry at least once', async () => {
    const first = await startApp();
    const second = await startApp();
    const [memberA, memberB] = [first, second].map(
      (app) => app.get(RedstreamRegistry).getGroupConsumer('events', 'workers')!.member,
    );
    expect(memberA).not.toEqual(memberB);

    await first.get(Producer).queue(
      'events',
      range(300).map((id) => ({ id })),
    );
    const [a, b] = [first, second].map((app) => app.get(EventWorkers));
    await waitFor(() => new Set([...a.handled, ...b.handled]).size === 300, 20_000);
    expect(a.handled.length).toBeGreaterThan(0);
    expect(b.handled.length).toBeGreaterThan(0);
    expect(a.contexts.every((context) => context.kind === 'group-consumer' && context.member === memberA)).toBe(true);
    expect(b.contexts.every((context) => context.kind === 'group-consumer' && context.member === memberB)).toBe(true);
    await waitFor(async () => (await pendingCount()) === 0);
  });

  it('the trimmer of a stream shared with an offset consumer keeps what the group has not acked', async () => {
    @Injectable()
    class SharedStream {
      readonly indexed: number[] = [];
      @RedstreamConsumer({ stream: 'events', name: 'indexer' })
      index(messages: RedstreamMessage<IdPayload>[]): void {
        this.indexed.push(...ids(messages));
      }
      @RedstreamGroupConsumer({ stream: 'events', group: 'workers', maxDeliveries: 0, ...FAST_GROUP })
      work(): void {
        throw new Error('not yet');
      }
    }
    // A long schedule: the test trims once, by hand.
    const app = await startApp({ trimmer: { schedule: 3_600_000 } }, [SharedStream]);
    const trimmer = app.get(RedstreamRegistry).getTrimmer('events');
    expect(trimmer).toBeDefined();
    await app.get(Producer).queue(
      'events',
      range(5).map((id) => ({ id })),
    );
    await waitFor(async () => app.get(SharedStream).indexed.length === 5 && (await pendingCount()) === 5);
    // The offset consumer committed everything; the group holds all of it pending.
    await trimmer!.trimOnce();
    expect(await redis.xlen(keys.stream('events'))).toBe(5);
  });
});

describe('@RedstreamGroupConsumer next to @RedstreamConsumer', () => {
  let app: TestingModule | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a consumer and a group of other names on one stream both get every entry', async () => {
    @Injectable()
    class Both {
      readonly indexed: number[] = [];
      readonly worked: number[] = [];
      @RedstreamConsumer({ stream: 'events', name: 'indexer' })
      index(messages: RedstreamMessage<IdPayload>[]): void {
        this.indexed.push(...ids(messages));
      }
      @RedstreamGroupConsumer({ stream: 'events', group: 'workers' })
      work(messages: RedstreamMessage<IdPayload>[]): void {
        this.worked.push(...ids(messages));
      }
    }
    app = await compileRedstreamApp({ providers: [Both] });
    await app.init();
    await app.get(Producer).queue(
      'events',
      range(5).map((id) => ({ id })),
    );
    const both = app.get(Both);
    await waitFor(() => both.indexed.length === 5 && both.worked.length >= 5);
    expect(both.indexed).toEqual(range(5));
    expect([...new Set(both.worked)].sort()).toEqual(range(5));
  });
});
