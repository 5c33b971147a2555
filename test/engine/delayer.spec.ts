import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { Delayer, DelayerOptions, Redstream, RedstreamLogger, RedstreamMessage, silentLogger } from '../../lib/engine';
import { scripts } from '../../lib/engine/scripts';
import { startCommandProxy } from '../support/command-proxy';
import { connectTestRedis, sleep, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { spawnWorkerChild, WorkerChild } from '../support/worker-child';

describe('Delayer', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const delayers: Delayer[] = [];
  const children: WorkerChild[] = [];
  const streamKey = (): string => `${namespace}:redstream:stream:products`;
  const delayKey = (): string => `${namespace}:redstream:stream:products.delay`;
  const delayerOffsetKey = (): string => `${namespace}:redstream:offset:products.delay:delayer`;
  const delayerLockKey = (): string => `${namespace}:redstream:lock:consumer:products.delay:delayer`;
  const delayer = (options: Partial<DelayerOptions>, on = redstream): Delayer => {
    const created = on.delayer({ stream: 'products', delay: 0, ...options });
    delayers.push(created);
    return created;
  };
  /** Raw payload strings on the main stream, in order. */
  const queuedPayloads = async (): Promise<string[]> =>
    (await admin.xrange(streamKey(), '-', '+')).map(([, fields]) => {
      expect(fields).toEqual(['payload', fields[1]]);
      return fields[1];
    });
  const redisTimeMs = async (): Promise<number> => {
    const [seconds, micros] = await admin.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
    await Promise.all(delayers.splice(0).map((created) => created.stop()));
    await redstream.close();
    await admin.quit();
  });

  it('re-queues a delay message once it is `delay` old, then deletes it and commits', async () => {
    const worker = delayer({ delay: 700 });
    worker.start();
    await waitFor(() => worker.isActive);
    const sentAt = performance.now();
    const [id] = await redstream.producer().delay('products', { id: 1 });
    await waitFor(async () => (await admin.xlen(streamKey())) === 1, 5_000);
    const elapsed = performance.now() - sentAt;
    expect(elapsed).toBeGreaterThanOrEqual(650);
    expect(elapsed).toBeLessThan(700 + 1_000);
    expect(await queuedPayloads()).toEqual(['{"id":1}']);
    expect(await admin.xlen(delayKey())).toBe(0);
    expect(await admin.get(delayerOffsetKey())).toBe(id);
  });

  it.each([
    ['an hour ahead', 3_600_000],
    ['an hour behind', -3_600_000],
  ])('measures the delay on the Redis clock, whatever the local clock says (%s)', async (_label, skewMs) => {
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + skewMs);
    const worker = delayer({ delay: 600 });
    worker.start();
    await waitFor(() => worker.isActive);
    const sentAt = performance.now();
    await redstream.producer().delay('products', { id: 1 });
    await waitFor(async () => (await admin.xlen(streamKey())) === 1, 5_000);
    const elapsed = performance.now() - sentAt;
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(600 + 1_000);
  });

  it('judges age by the Redis time in the entry id: old entries at once, future ones later', async () => {
    const now = await redisTimeMs();
    await admin.xadd(delayKey(), `${now - 10_000}-0`, 'payload', '{"id":"old"}');
    await admin.xadd(delayKey(), `${now + 1_500}-0`, 'payload', '{"id":"future"}');
    const worker = delayer({ delay: 1_000 });
    const startedAt = performance.now();
    worker.start();
    await waitFor(async () => (await admin.xlen(streamKey())) === 1);
    expect(performance.now() - startedAt).toBeLessThan(500);
    await waitFor(async () => (await admin.xlen(streamKey())) === 2, 5_000);
    // due at now + 1500 + 1000 on the Redis clock
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(2_300);
    expect(await queuedPayloads()).toEqual(['{"id":"old"}', '{"id":"future"}']);
  });

  it('re-queues the payload byte for byte', async () => {
    const raw = ['{ "b" : 1,  "a":"\\u00e9 ü" }', '{"id":1,"nested":{"list":[1,2.50,"x"]}}'];
    for (const payload of raw) await admin.xadd(delayKey(), '*', 'payload', payload, 'ignored', 'field');
    delayer({}).start();
    await waitFor(async () => (await admin.xlen(streamKey())) === 2);
    expect(await queuedPayloads()).toEqual(raw);
  });

  it('keeps the trace context (traceparent, tracestate) when it re-queues, and no other field', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await admin.xadd(delayKey(), '*', 'payload', '{"id":1}', 'traceparent', traceparent, 'other', 'x');
    await admin.xadd(delayKey(), '*', 'payload', '{"id":2}', 'tracestate', 'k=v', 'traceparent', traceparent);
    await admin.xadd(delayKey(), '*', 'payload', '{"id":3}', 'tracestate', 'k=v');
    delayer({}).start();
    await waitFor(async () => (await admin.xlen(streamKey())) === 3);
    const entries = await admin.xrange(streamKey(), '-', '+');
    expect(entries.map(([, fields]) => fields)).toEqual([
      ['payload', '{"id":1}', 'traceparent', traceparent],
      ['payload', '{"id":2}', 'traceparent', traceparent, 'tracestate', 'k=v'],
      // A tracestate means nothing without its traceparent.
      ['payload', '{"id":3}'],
    ]);
  });

  it('keeps messages that are not due yet', async () => {
    const worker = delayer({ delay: 60_000 });
    worker.start();
    await redstream.producer().delay('products', [{ id: 1 }, { id: 2 }]);
    await sleep(500);
    expect(await admin.exists(streamKey())).toBe(0);
    expect(await admin.xlen(delayKey())).toBe(2);
    expect(await admin.get(delayerOffsetKey())).toBeNull();
  });

  it('drops a delay message already deleted by queue(..., { delayMessageIds })', async () => {
    const producer = redstream.producer();
    const [deleted] = await producer.delay('products', { id: 1 });
    await producer.delay('products', { id: 2 });
    await producer.queue('products', { id: 1 }, { delayMessageIds: [deleted] });
    delayer({}).start();
    await waitFor(async () => (await admin.xlen(delayKey())) === 0);
    expect(await queuedPayloads()).toEqual(['{"id":1}', '{"id":2}']);
  });

  it('does not re-queue a delay message deleted after the delayer read it', async () => {
    const producer = redstream.producer();
    const ids = await producer.delay('products', [{ id: 1 }, { id: 2 }]);
    const worker = delayer({
      // Runs after the read, before the re-queue step: the immediate message arrives now.
      onDue: () => producer.queue('products', { id: 1 }, { delayMessageIds: [ids[0]] }),
    });
    worker.start();
    await waitFor(async () => (await admin.get(delayerOffsetKey())) === ids[1]);
    expect(await queuedPayloads()).toEqual(['{"id":1}', '{"id":2}']);
  });

  it('calls onDue with the due messages, and re-queues even when onDue throws', async () => {
    const seen: RedstreamMessage[][] = [];
    const errors: string[] = [];
    const logger: RedstreamLogger = { ...silentLogger, error: (message: string) => void errors.push(message) };
    const worker = delayer({
      logger,
      onDue: (messages) => {
        seen.push(messages);
        throw new Error('metrics backend down');
      },
    });
    const ids = await redstream.producer().delay('products', [{ id: 1 }, { id: 2 }]);
    worker.start();
    await waitFor(async () => (await admin.xlen(streamKey())) === 2);
    expect(
      seen.flat().map((message) => ({ id: message.id, stream: message.stream, payload: message.payload })),
    ).toEqual([
      { id: ids[0], stream: 'products', payload: { id: 1 } },
      { id: ids[1], stream: 'products', payload: { id: 2 } },
    ]);
    expect(errors.some((message) => message.includes('metrics backend down'))).toBe(true);
  });

  it('drops an entry without payload (logged), delivering the others', async () => {
    const warnings: string[] = [];
    const logger: RedstreamLogger = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
    const bad = await admin.xadd(delayKey(), '*', 'other', 'x');
    await admin.xadd(delayKey(), '*', 'payload', '{"id":2}');
    delayer({ logger }).start();
    await waitFor(async () => (await admin.xlen(delayKey())) === 0);
    expect(await queuedPayloads()).toEqual(['{"id":2}']);
    expect(warnings.some((message) => message.includes(bad!))).toBe(true);
  });

  it('re-queues nothing after it lost its lock', async () => {
    const producer = redstream.producer();
    const standbys: string[] = [];
    const worker = delayer({
      lockTtlMs: 1_000,
      lockRefreshMs: 300,
      onDue: () => admin.set(delayerLockKey(), 'newer-owner', 'PX', 60_000),
    });
    worker.on('standby', (reason) => standbys.push(reason));
    await producer.delay('products', { id: 1 });
    worker.start();
    await waitFor(() => standbys.length === 1);
    expect(standbys[0]).toMatch(/lost its lock/);
    expect(await admin.exists(streamKey())).toBe(0);
    expect(await admin.xlen(delayKey())).toBe(1);
    expect(await admin.get(delayerOffsetKey())).toBeNull();
  });

  it('re-queues once even when the reply to its re-queue step is lost and the command re-sent', async () => {
    const proxy = await startCommandProxy(Number(new URL(testRedisUrl()).port));
    const proxied = new Redstream({ redis: proxy.url, namespace, logger: silentLogger });
    try {
      const ids = await redstream.producer().delay('products', [{ id: 1 }, { id: 2 }, { id: 3 }]);
      await admin.script('LOAD', scripts.deliverDelayed.source);
      const lost = proxy.loseReplyOfNext(new RegExp(scripts.deliverDelayed.sha));
      delayer({}, proxied).start();
      await lost;
      await waitFor(async () => (await admin.get(delayerOffsetKey())) === ids[2]);
      await sleep(200);
      expect(await queuedPayloads()).toEqual(['{"id":1}', '{"id":2}', '{"id":3}']);
    } finally {
      await Promise.all(delayers.splice(0).map((created) => created.stop()));
      await proxied.close();
      await proxy.close();
    }
  });

  it('loses and duplicates nothing when its process is killed -9 mid-run', async () => {
    const count = 1_000;
    const payloads = Array.from({ length: count }, (_, index) => ({ id: index }));
    await redstream.producer().delay('products', payloads);
    const child = await spawnWorkerChild({
      redisUrl: testRedisUrl(),
      namespace,
      role: 'delayer',
      stream: 'products',
      batchSize: 50,
      lockTtlMs: 800,
      lockRefreshMs: 250,
      standbyPollMs: 100,
      handlerMs: 30, // onDue: slow enough to be killed halfway
    });
    children.push(child);
    await child.waitForEvent((event) => event.type === 'committed' && (event.count ?? 0) > 0);
    await sleep(Math.random() * 150);
    await child.kill('SIGKILL');
    const deliveredByChild = await admin.xlen(streamKey());
    expect(deliveredByChild).toBeGreaterThan(0);
    expect(deliveredByChild).toBeLessThan(count);

    delayer({ lockTtlMs: 800, lockRefreshMs: 250, standbyPollMs: 100 }).start();
    await waitFor(async () => (await admin.xlen(delayKey())) === 0, 10_000);
    const queued = (await queuedPayloads()).map((payload) => (JSON.parse(payload) as { id: number }).id);
    expect(queued).toEqual(payloads.map((payload) => payload.id));
  });
});
