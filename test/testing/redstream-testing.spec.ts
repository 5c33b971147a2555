import { Injectable, INestApplicationContext } from '@nestjs/common';
import {
  Producer,
  RedstreamConfigError,
  RedstreamConsumer,
  RedstreamDelayer,
  RedstreamGroupConsumer,
  RedstreamMessage,
  RedstreamModuleOptions,
  RedstreamRegistry,
} from '../../lib';
import { RedstreamDrainTimeoutError, redstreamTesting } from '../../lib/testing';
import { compileRedstreamApp } from '../nest/nest-test-helpers';
import { connectTestRedis, testRedisUrl, waitFor } from '../support/test-redis';

// The testing entry against the suite's real Redis: drain() must wait for exactly what was in
// the stream when it was called, and say where the consumer got to when it gives up.

/** Holds a handler's batches until the test lets them through, one by one or all at once. */
class Gate {
  private readonly held: (() => void)[] = [];
  private isOpen = false;

  /** Batches waiting at the gate now. */
  get waiting(): number {
    return this.held.length;
  }

  pass(): Promise<void> {
    return this.isOpen ? Promise.resolve() : new Promise((resolve) => this.held.push(resolve));
  }

  releaseOne(): void {
    this.held.shift()?.();
  }

  open(): void {
    this.isOpen = true;
    for (const release of this.held.splice(0)) release();
  }
}

type Item = { id: number };

@Injectable()
class Indexer {
  readonly received: number[] = [];
  gate?: Gate;

  @RedstreamConsumer({ stream: 'products', name: 'indexer', batchSize: 5 })
  async index(messages: RedstreamMessage<Item>[]): Promise<void> {
    await this.gate?.pass();
    this.received.push(...messages.map((message) => message.payload.id));
  }
}

@Injectable()
class Workers {
  readonly received: number[] = [];
  gate?: Gate;

  @RedstreamGroupConsumer({ stream: 'events', group: 'workers', batchSize: 20, blockMs: 500 })
  async work(messages: RedstreamMessage<Item>[]): Promise<void> {
    await this.gate?.pass();
    this.received.push(...messages.map((message) => message.payload.id));
  }
}

@Injectable()
class ProductsDelayer {
  @RedstreamDelayer({ stream: 'products', delay: 300 })
  due(): void {}
}

const apps: INestApplicationContext[] = [];
const gates: Gate[] = [];

async function startApp(providers: (new (...args: never[]) => object)[], options: RedstreamModuleOptions = {}) {
  const moduleRef = await compileRedstreamApp({ providers, options });
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  apps.push(app);
  return app;
}

function gate(): Gate {
  const created = new Gate();
  gates.push(created);
  return created;
}

afterEach(async () => {
  // Held handlers must finish, or close() would wait for them.
  for (const held of gates.splice(0)) held.open();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const ids = (from: number, count: number): Item[] => Array.from({ length: count }, (_, i) => ({ id: from + i }));

describe('redstreamTesting.drain', () => {
  it('waits until an offset consumer has committed what the stream held at call time, not what came after', async () => {
    const app = await startApp([Indexer]);
    const indexer = app.get(Indexer);
    indexer.gate = gate();
    const producer = app.get(Producer);
    const first = await producer.queue('products', ids(1, 12));

    let settled = false;
    const drained = redstreamTesting.drain(app, 'products', 'indexer', { timeoutMs: 20_000, pollMs: 5 });
    void drained.finally(() => (settled = true)).catch(() => undefined);
    await waitFor(() => indexer.gate?.waiting === 1);
    // Written after the call: drain() must not wait for these.
    await producer.queue('products', ids(100, 3));

    // The first batch (ids 1-5) committed, the second held: drain() must still wait.
    const redstream = app.get(RedstreamRegistry).redstream;
    indexer.gate.releaseOne();
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === first[4]);
    await waitFor(() => indexer.gate?.waiting === 1);
    await expect(waitFor(() => settled, 300)).rejects.toThrow(/timed out/);
    expect(indexer.received).toEqual([1, 2, 3, 4, 5]);

    indexer.gate.open();
    const result = await drained;
    expect(result).toMatchObject({ stream: 'products', consumer: 'indexer', kind: 'consumer', upTo: first[11] });
    expect(indexer.received.slice(0, 12)).toEqual(ids(1, 12).map((item) => item.id));
  }, 30_000);

  it('returns at once when the stream is empty or does not exist', async () => {
    const app = await startApp([Indexer]);
    await expect(redstreamTesting.drain(app, 'products', 'indexer', { timeoutMs: 2_000 })).resolves.toMatchObject({
      upTo: null,
    });
  });

  it('times out naming the consumer, the id it waited for and where the consumer got to', async () => {
    const app = await startApp([Indexer]);
    const indexer = app.get(Indexer);
    indexer.gate = gate();
    const [, last] = await app.get(Producer).queue('products', ids(1, 2));
    await waitFor(() => indexer.gate?.waiting === 1);

    const error = await redstreamTesting.drain(app, 'products', 'indexer', { timeoutMs: 400 }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RedstreamDrainTimeoutError);
    const timeout = error as RedstreamDrainTimeoutError;
    expect(timeout).toMatchObject({ stream: 'products', consumer: 'indexer', upTo: last, reached: null });
    expect(timeout.message).toContain('timed out after 400 ms');
    expect(timeout.message).toContain(`consumer 'indexer' of stream 'products' to commit up to ${last}`);
    expect(timeout.message).toContain('it has committed nothing yet, 2 entries after it in the stream now');
    expect(timeout.message).toContain("this application's consumer is active");
    const namespace = app.get(RedstreamRegistry).redstream.keys.namespace;
    expect(timeout.message).toContain(`(namespace '${namespace}')`);
  }, 30_000);

  it('says the consumer is stopped when it is', async () => {
    const app = await startApp([Indexer]);
    const registry = app.get(RedstreamRegistry);
    await registry.stop('products', 'indexer');
    await app.get(Producer).queue('products', ids(1, 3));
    await expect(redstreamTesting.drain(app, 'products', 'indexer', { timeoutMs: 300 })).rejects.toThrow(
      /committed nothing yet, 3 entries after it in the stream now; this application's consumer is stopped$/,
    );
  }, 30_000);

  it('waits until a consumer group has delivered and acked everything up to the last entry', async () => {
    const app = await startApp([Workers]);
    const workers = app.get(Workers);
    workers.gate = gate();
    const produced = await app.get(Producer).queue('events', ids(1, 10));
    const registry = app.get(RedstreamRegistry);
    // All delivered in one batch, none acked: drain() must still wait.
    await waitFor(async () => (await registry.redstream.groupInfo('events', 'workers'))?.pending === 10);

    const timeout = await redstreamTesting.drain(app, 'events', 'workers', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(RedstreamDrainTimeoutError);
    expect((timeout as Error).message).toContain(
      `consumer group 'workers' of stream 'events' to deliver and ack every entry up to ${produced[9]}`,
    );
    expect((timeout as Error).message).toMatch(
      /its last delivered id is \S+, \d+ entries not delivered yet, \d+ pending, the oldest \S+ held by \S+ \(delivered 1 times\)/,
    );

    workers.gate.open();
    await expect(redstreamTesting.drain(app, 'events', 'workers', { timeoutMs: 20_000 })).resolves.toMatchObject({
      kind: 'group-consumer',
      upTo: produced[9],
    });
    expect([...workers.received].sort((a, b) => a - b)).toEqual(ids(1, 10).map((item) => item.id));
    expect((await registry.redstream.groupInfo('events', 'workers'))?.pending).toBe(0);
  }, 30_000);

  it('waits for delay messages only with includeDelayed, then for the consumer to handle them', async () => {
    const app = await startApp([Indexer, ProductsDelayer]);
    const indexer = app.get(Indexer);
    // Only the delay message: as if the write after the commit never happened.
    await app.get(Producer).delay('products', { id: 42 });

    await expect(redstreamTesting.drain(app, 'products', 'indexer', { timeoutMs: 2_000 })).resolves.toMatchObject({
      upTo: null,
    });
    expect(indexer.received).toEqual([]);

    const result = await redstreamTesting.drain(app, 'products', 'indexer', {
      timeoutMs: 20_000,
      includeDelayed: true,
    });
    expect(result.upTo).not.toBeNull();
    expect(indexer.received).toEqual([42]);
  }, 30_000);

  it('rejects at once what it cannot drain, naming what runs', async () => {
    const app = await startApp([Indexer, ProductsDelayer]);
    await expect(redstreamTesting.drain(app, 'products', 'cacher')).rejects.toThrow(
      new RedstreamConfigError(
        "redstreamTesting.drain: no consumer or group consumer 'cacher' on stream 'products' runs in this application " +
          '(running: products:indexer (consumer))',
      ),
    );
    await expect(redstreamTesting.drain(app, 'products', 'delayer')).rejects.toThrow(/is the Delayer of 'products'/);
    await expect(redstreamTesting.drain(app, 'events', 'indexer', { includeDelayed: true })).rejects.toThrow(
      RedstreamConfigError,
    );
    await expect(redstreamTesting.drain(app, 'products', 'indexer', { timeoutMs: 0 })).rejects.toThrow(
      /redstreamTesting\.drain: timeoutMs must be a positive number of ms, got 0/,
    );

    const idle = await startApp([Indexer], { backgroundServices: false });
    await expect(redstreamTesting.drain(idle, 'products', 'indexer')).rejects.toThrow(
      /'products:indexer' \(Indexer\.index\) does not run in this application/,
    );
  }, 30_000);
});

describe('redstreamTesting.uniqueNamespace and flushNamespace', () => {
  it('gives a fresh valid namespace per call, and refuses a prefix no namespace may hold', () => {
    const names = new Set(Array.from({ length: 50 }, () => redstreamTesting.uniqueNamespace('e2e')));
    expect(names.size).toBe(50);
    for (const name of names) expect(name).toMatch(/^e2e-[0-9a-f]{8}$/);
    expect(() => redstreamTesting.uniqueNamespace('has space')).toThrow(RedstreamConfigError);
  });

  it("deletes every key of one namespace and nothing of another's", async () => {
    const mine = redstreamTesting.uniqueNamespace();
    const other = redstreamTesting.uniqueNamespace();
    const redis = connectTestRedis();
    try {
      for (const namespace of [mine, other]) {
        const app = await startApp([Indexer], { namespace, redis: testRedisUrl() });
        await app.get(Producer).queue('products', ids(1, 3));
        await app.get(Producer).delay('products', ids(1, 1));
        await redstreamTesting.drain(app, 'products', 'indexer');
        await app.close();
      }
      const keysOf = (namespace: string) => redis.keys(`${namespace}:*`);
      expect((await keysOf(mine)).length).toBeGreaterThanOrEqual(4);
      const before = (await keysOf(other)).sort();

      const deleted = await redstreamTesting.flushNamespace(redis, mine);
      expect(deleted).toBeGreaterThanOrEqual(4);
      expect(await keysOf(mine)).toEqual([]);
      expect((await keysOf(other)).sort()).toEqual(before);
      await expect(redstreamTesting.flushNamespace(redis, '')).rejects.toThrow(RedstreamConfigError);
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});
