import { ConsoleLogger, Controller, INestMicroservice, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { consumerLockName, Redstream } from '../../lib/engine';
import {
  RedstreamClient,
  RedstreamServer,
  RedstreamServerConsumerModeOptions,
  RedstreamServerGroupModeOptions,
  RedstreamServerOptions,
} from '../../lib/microservices';
import { RecordingLogger } from '../support/recording-logger';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { compareIds, FAST_WORKERS, HandledEvent, productsModule } from './microservices-test-helpers';

type ServerOptions = Partial<Omit<RedstreamServerConsumerModeOptions, 'group'>> &
  Partial<Pick<RedstreamServerGroupModeOptions, 'group'>>;

describe('RedstreamServer (NestJS microservice transport)', () => {
  let namespace: string;
  let client: RedstreamClient;
  /** An engine of the test's own, to read offsets and lengths. */
  let admin: Redstream;
  const apps: INestMicroservice[] = [];

  beforeEach(() => {
    namespace = uniqueNamespace('micro');
    client = new RedstreamClient({ redis: testRedisUrl(), namespace, logger: false });
    admin = new Redstream({ redis: testRedisUrl(), namespace, logger: false });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await client.close();
    await admin.close();
  });

  function serverOptions(options: ServerOptions = {}): RedstreamServerOptions {
    const mode = options.group
      ? { group: options.group, groupOptions: { ...FAST_WORKERS } }
      : { consumer: options.consumer ?? 'billing', consumerOptions: { ...FAST_WORKERS, ...options.consumerOptions } };
    return {
      redis: testRedisUrl(),
      namespace,
      logger: false,
      trimmer: false,
      ...options,
      ...mode,
    } as RedstreamServerOptions;
  }

  async function startMicroservice(
    module: Type,
    options: ServerOptions = {},
  ): Promise<{ app: INestMicroservice; server: RedstreamServer }> {
    const server = new RedstreamServer(serverOptions(options));
    const app = await NestFactory.createMicroservice(module, { strategy: server, logger: false });
    apps.push(app);
    await app.listen();
    return { app, server };
  }

  async function emit(count: number, from = 0): Promise<string[]> {
    const ids: string[] = [];
    for (let n = from; n < from + count; n++) ids.push(await lastValueFrom(client.emit('products', { n })));
    return ids;
  }

  it('hands the events emitted by the client to the @EventPattern handler, one by one in stream order, and commits', async () => {
    const calls: HandledEvent[] = [];
    await startMicroservice(productsModule(calls), {
      trimmer: { interval: 200, lockTtlMs: 1_000, lockRefreshMs: 300 },
    });
    const sequential = await emit(5);
    // Concurrent emits share pipelines; the stream's order is the order of the calls.
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, (_, i) => lastValueFrom(client.emit('products', { n: 5 + i }))),
    );
    const ids = [...sequential, ...concurrent];
    expect([...ids].sort(compareIds)).toEqual(ids);

    await waitFor(() => calls.length >= 25);
    expect(calls.map((call) => call.data)).toEqual(Array.from({ length: 25 }, (_, n) => ({ n })));
    expect(calls.map((call) => call.id)).toEqual(ids);
    expect(new Set(calls.map((call) => call.pattern))).toEqual(new Set(['products']));
    await waitFor(async () => (await admin.committedOffset('products', 'billing')) === ids[24]);
    // The Trimmer of the stream deletes what the consumer committed.
    await waitFor(async () => (await admin.streamLength('products')) === 0);
  });

  it('hands the same batch again, from its first message, when the handler throws, and commits only after', async () => {
    // Written before the server starts, so that the first read takes all five as one batch.
    const ids = await emit(5);
    const calls: HandledEvent[] = [];
    const offsetsSeenOnRetry: (string | null)[] = [];
    let failures = 0;
    const logger = new RecordingLogger();
    const { server } = await startMicroservice(
      productsModule(calls, async ({ data }) => {
        if (data.n === 0 && failures === 1) offsetsSeenOnRetry.push(await admin.committedOffset('products', 'billing'));
        if (data.n === 2 && failures === 0) {
          failures++;
          throw new Error('search index unavailable');
        }
      }),
      { logger },
    );
    const failed: string[] = [];
    server.on('failed', (pattern, error) => failed.push(`${pattern}: ${error.message}`));

    await waitFor(async () => (await admin.committedOffset('products', 'billing')) === ids[4]);
    expect(calls.map((call) => call.data.n)).toEqual([0, 1, 2, 0, 1, 2, 3, 4]);
    expect(offsetsSeenOnRetry).toEqual([null]);
    expect(failed).toEqual([
      `products: @EventPattern('products') handler failed on entry ${ids[2]}: Internal server error`,
    ]);
    expect(logger.errors.join('\n')).toContain(`@EventPattern('products') handler failed on entry ${ids[2]}`);
  });

  it("hands Nest's ConsoleLogger each worker line as a record, as the module does", async () => {
    const ids = await emit(1);
    const logger = new ConsoleLogger('Transport');
    const errors: unknown[] = [];
    jest.spyOn(logger, 'error').mockImplementation((message: unknown) => void errors.push(message));
    let failures = 0;
    await startMicroservice(
      productsModule([], () => {
        if (failures++ === 0) throw new Error('search index unavailable');
      }),
      { logger },
    );

    await waitFor(async () => (await admin.committedOffset('products', 'billing')) === ids[0]);
    expect(errors).toContainEqual(
      expect.objectContaining({ worker: 'consumer', stream: 'products', consumer: 'billing', ids: ids[0], attempt: 1 }),
    );
  });

  it('runs one active consumer per name: the second instance stands by and takes over when the first closes', async () => {
    const callsA: HandledEvent[] = [];
    const callsB: HandledEvent[] = [];
    const active: string[] = [];
    const first = await startMicroservice(productsModule(callsA));
    first.server.on('active', () => active.push('A'));
    await waitFor(
      async () => (await admin.client.exists(admin.keys.lock(consumerLockName('products', 'billing')))) === 1,
    );
    const second = await startMicroservice(productsModule(callsB));
    second.server.on('active', () => active.push('B'));

    const ids = await emit(10);
    await waitFor(() => callsA.length >= 10);
    expect(callsA.map((call) => call.id)).toEqual(ids);
    expect(callsB).toEqual([]);
    expect(active).not.toContain('B');

    // Closing A releases its lock and wakes B, which goes on after A's committed offset.
    await first.app.close();
    await waitFor(() => active.includes('B'));
    const more = await emit(5, 10);
    await waitFor(() => callsB.length >= 5);
    expect(callsB.map((call) => call.id)).toEqual(more);
    expect(callsA).toHaveLength(10);
  }, 30_000);

  it('shares the work between instances in group mode, each event handled once', async () => {
    const callsA: HandledEvent[] = [];
    const callsB: HandledEvent[] = [];
    const active: string[] = [];
    const a = await startMicroservice(productsModule(callsA), { group: 'billing' });
    a.server.on('active', () => active.push('A'));
    const b = await startMicroservice(productsModule(callsB), { group: 'billing' });
    b.server.on('active', () => active.push('B'));
    await waitFor(async () => (await admin.groupInfo('products', 'billing'))?.members.length === 2);

    const ids = await emit(40);
    await waitFor(() => callsA.length + callsB.length >= 40);
    const handled = [...callsA, ...callsB].map((call) => call.id).sort(compareIds);
    expect(handled).toEqual(ids);
    // Each instance still sees its own share in stream order.
    for (const calls of [callsA, callsB]) {
      expect(calls.map((call) => call.id)).toEqual([...calls.map((call) => call.id)].sort(compareIds));
    }
    await waitFor(async () => (await admin.groupInfo('products', 'billing'))?.pending === 0);
  }, 30_000);

  it('re-queues delay messages written by client.delay() once they are due (delayer option)', async () => {
    const calls: HandledEvent[] = [];
    await startMicroservice(productsModule(calls), { delayer: { delay: 300, ...FAST_WORKERS } });
    const writtenAt = Date.now();
    const delayId = await lastValueFrom(client.delay('products', { n: 'late' }));
    expect(delayId).toMatch(/^\d+-\d+$/);
    expect(await admin.delayStreamLength('products')).toBe(1);

    await waitFor(() => calls.length >= 1);
    expect(Date.now() - writtenAt).toBeGreaterThanOrEqual(250);
    expect(calls.map((call) => call.data)).toEqual([{ n: 'late' }]);
    expect(await admin.delayStreamLength('products')).toBe(0);
  });

  it('fails at bootstrap on a @MessagePattern handler, which a stream cannot answer', async () => {
    @Controller()
    class PricesController {
      @MessagePattern('prices')
      price(): number {
        return 1;
      }
    }
    @Module({ controllers: [PricesController] })
    class PricesModule {}

    const server = new RedstreamServer(serverOptions());
    const app = await NestFactory.createMicroservice(PricesModule, { strategy: server, logger: false });
    apps.push(app);
    await expect(app.listen()).rejects.toThrow(
      /RedstreamServer: @MessagePattern\(\) is not supported \(prices\): a stream is a log/,
    );
    expect(server.unwrap()).toBeUndefined();
  });

  it('fails at bootstrap on an event pattern that is not a stream name', async () => {
    @Controller()
    class CommandsController {
      @EventPattern({ cmd: 'reindex' })
      reindex(): void {}
    }
    @Module({ controllers: [CommandsController] })
    class CommandsModule {}

    const app = await NestFactory.createMicroservice(CommandsModule, {
      strategy: new RedstreamServer(serverOptions()),
      logger: false,
    });
    apps.push(app);
    await expect(app.listen()).rejects.toThrow(/@EventPattern\(\{"cmd":"reindex"\}\) cannot be consumed/);
  });

  it('fails at bootstrap on an invalid worker option, naming it', async () => {
    const calls: HandledEvent[] = [];
    const server = new RedstreamServer(serverOptions({ consumerOptions: { lockTtlMs: 500, lockRefreshMs: 600 } }));
    const app = await NestFactory.createMicroservice(productsModule(calls), { strategy: server, logger: false });
    apps.push(app);
    await expect(app.listen()).rejects.toThrow(
      /Consumer products:billing: lockRefreshMs \(600\) must be below lockTtlMs/,
    );
  });

  it('rejects options without exactly one of consumer and group', () => {
    expect(() => new RedstreamServer({ redis: testRedisUrl() } as RedstreamServerOptions)).toThrow(
      /exactly one of "consumer".*neither was given/,
    );
    expect(() => new RedstreamServer({ consumer: 'a', group: 'b' } as unknown as RedstreamServerOptions)).toThrow(
      /both were given/,
    );
  });

  it('close() is idempotent, closes the connections, and listen() after it fails', async () => {
    const calls: HandledEvent[] = [];
    const { app, server } = await startMicroservice(productsModule(calls));
    await emit(1);
    await waitFor(() => calls.length === 1);
    const engine = server.unwrap<Redstream>();
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    await app.close();
    await waitFor(() => engine.client.status === 'end');
    expect(() => engine.producer()).not.toThrow();
    expect(() => engine.consumer({ stream: 'products', name: 'x', handler: () => undefined })).toThrow(/after close/);
    const listened = new Promise((resolve) => server.listen(resolve));
    await expect(listened).resolves.toBeInstanceOf(Error);
  });
});
