import Redis from 'ioredis';
import {
  Consumer,
  ConsumerOptions,
  Redstream,
  RedstreamHandlerTimeoutError,
  RedstreamLogger,
  RedstreamMessage,
  silentLogger,
} from '../../lib/engine';
import { connectTestRedis, sleep, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

/** A promise with its resolve function, to hold a handler until the test lets it go. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** A logger that keeps its warnings for assertions. */
function recordingLogger(): RedstreamLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warn: (message: string) => void warnings.push(message), warnings };
}

describe('Consumer', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const consumers: Consumer[] = [];
  const streamKey = (): string => `${namespace}:redstream:stream:products`;
  const lockKey = (): string => `${namespace}:redstream:lock:consumer:products:indexer`;
  const committed = (): Promise<string | null> => redstream.committedOffset('products', 'indexer');
  const consumer = (options: Partial<ConsumerOptions<Record<string, unknown>>>): Consumer => {
    const created = redstream.consumer({ stream: 'products', name: 'indexer', handler: () => undefined, ...options });
    consumers.push(created);
    return created;
  };
  const queue = (count: number, from = 0): Promise<string[]> =>
    redstream.producer().queue(
      'products',
      Array.from({ length: count }, (_, index) => ({ id: from + index })),
    );

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((created) => created.stop()));
    await redstream.close();
    await admin.quit();
  });

  it('hands over batches in stream order and commits the last id of each', async () => {
    const ids = await queue(23);
    const batches: RedstreamMessage[][] = [];
    const commits: string[] = [];
    const worker = consumer({ batchSize: 5, handler: (messages) => void batches.push(messages) });
    worker.on('committed', (offset) => commits.push(offset));
    worker.start();
    await waitFor(async () => (await committed()) === ids[22]);
    expect(batches.map((batch) => batch.length)).toEqual([5, 5, 5, 5, 3]);
    expect(batches.flat().map((message) => message.id)).toEqual(ids);
    expect(batches.flat().map((message) => message.payload.id)).toEqual([...Array(23).keys()]);
    expect(commits).toEqual([ids[4], ids[9], ids[14], ids[19], ids[22]]);
    const first = batches[0][0];
    expect({ id: first.id, stream: first.stream, payload: first.payload, fields: first.fields }).toEqual({
      id: ids[0],
      stream: 'products',
      payload: { id: 0 },
      fields: { payload: '{"id":0}' },
    });
    // Logged or serialised, a message is the plain object.
    expect(JSON.parse(JSON.stringify(first))).toEqual({
      id: ids[0],
      stream: 'products',
      payload: { id: 0 },
      fields: { payload: '{"id":0}' },
    });
  });

  it('continues after its committed offset when restarted', async () => {
    const ids = await queue(3);
    await admin.set(`${namespace}:redstream:offset:products:indexer`, ids[1]);
    const seen: string[] = [];
    const worker = consumer({ handler: (messages) => void seen.push(...messages.map((message) => message.id)) });
    worker.start();
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([ids[2]]);
  });

  it('commits only after the handler resolved', async () => {
    const [id] = await queue(1);
    const release = deferred();
    let calls = 0;
    const worker = consumer({
      handler: () => {
        calls++;
        return release.promise;
      },
    });
    worker.start();
    await waitFor(() => calls === 1);
    await sleep(300);
    expect(await committed()).toBeNull();
    release.resolve();
    await waitFor(async () => (await committed()) === id);
    expect(calls).toBe(1);
  });

  it('retries the same batch after a backoff when the handler throws, skipping nothing', async () => {
    const ids = await queue(6);
    const calls: { ids: string[]; at: number }[] = [];
    const failures: number[] = [];
    const worker = consumer({
      batchSize: 3,
      backoffInitialMs: 100,
      backoffMaxMs: 1_000,
      handler: async (messages) => {
        calls.push({ ids: messages.map((message) => message.id), at: Date.now() });
        if (calls.length <= 2) throw new Error('search index unavailable');
      },
    });
    worker.on('failed', (_error, retryInMs) => failures.push(retryInMs));
    worker.start();
    await waitFor(async () => (await committed()) === ids[5]);
    expect(calls.map((call) => call.ids)).toEqual([ids.slice(0, 3), ids.slice(0, 3), ids.slice(0, 3), ids.slice(3)]);
    // Capped exponential backoff with jitter in the upper half: [50, 100] ms, then [100, 200] ms.
    expect(failures).toHaveLength(2);
    expect(failures[0]).toBeGreaterThanOrEqual(50);
    expect(failures[0]).toBeLessThanOrEqual(100);
    expect(failures[1]).toBeGreaterThanOrEqual(100);
    expect(failures[1]).toBeLessThanOrEqual(200);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(failures[0] - 5);
    expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(failures[1] - 5);
  });

  it('does not commit while the handler keeps failing', async () => {
    await queue(2);
    let calls = 0;
    const worker = consumer({
      backoffInitialMs: 20,
      backoffMaxMs: 40,
      handler: () => {
        calls++;
        throw new Error('still failing');
      },
    });
    worker.start();
    await waitFor(() => calls >= 5);
    expect(await committed()).toBeNull();
  });

  it('counts a handler that does not settle within handlerTimeoutMs as failed and retries', async () => {
    const [id] = await queue(1);
    let calls = 0;
    const errors: Error[] = [];
    const worker = consumer({
      handlerTimeoutMs: 150,
      backoffInitialMs: 20,
      handler: () => {
        calls++;
        // The first call hangs for ever; the retry succeeds.
        return calls === 1 ? new Promise(() => undefined) : undefined;
      },
    });
    worker.on('failed', (error) => errors.push(error));
    worker.start();
    await waitFor(async () => (await committed()) === id);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RedstreamHandlerTimeoutError);
  });

  it('logs and skips bad entries, handing over the good ones around them', async () => {
    const add = (...fields: (string | Buffer)[]): Promise<string> =>
      admin.xadd(streamKey(), '*', ...fields) as Promise<string>;
    const good1 = await add('payload', '{"id":1}');
    const bad = [
      await add('other', 'no payload field'),
      await add('payload', '{"id": 2'),
      await add('payload', '[1,2]'),
      await add('payload', '"a string"'),
      await add('payload', 'null'),
      await add('payload', Buffer.from([0xff, 0xfe, 0x00, 0x7b])),
    ];
    const good2 = await add('payload', '{"id":3}', 'extra', 'kept');
    const logger = recordingLogger();
    const seen: RedstreamMessage[] = [];
    const rejected: string[] = [];
    const worker = consumer({ batchSize: 3, logger, handler: (messages) => void seen.push(...messages) });
    worker.on('rejected', (entries) => rejected.push(...entries.map((entry) => entry.id)));
    worker.start();
    await waitFor(async () => (await committed()) === good2);
    expect(seen.map((message) => message.id)).toEqual([good1, good2]);
    expect(seen[1].fields).toEqual({ payload: '{"id":3}', extra: 'kept' });
    expect(rejected).toEqual(bad);
    expect(logger.warnings).toHaveLength(bad.length);
    bad.forEach((id, index) => expect(logger.warnings[index]).toContain(id));
    expect(logger.warnings[0]).toMatch(/no "payload" field/);
    expect(logger.warnings[1]).toMatch(/not JSON/);
    expect(logger.warnings[2]).toMatch(/not an object/);
  });

  it('returns from stop() at once while blocked in a long XREAD', async () => {
    const url = new URL(testRedisUrl());
    const connectionName = uniqueNamespace('blocked');
    const named = new Redstream({
      redis: { host: url.hostname, port: Number(url.port), connectionName },
      namespace,
      logger: silentLogger,
    });
    try {
      const worker = named.consumer({ stream: 'products', name: 'indexer', blockMs: 10_000, handler: () => undefined });
      worker.start();
      await waitFor(() => worker.isActive);
      // Make sure the read is really blocked on the server.
      await waitFor(async () =>
        String(await admin.call('CLIENT', 'LIST'))
          .split('\n')
          .some((line) => line.includes(`name=${connectionName}`) && line.includes('cmd=xread')),
      );
      const started = Date.now();
      await worker.stop();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(await admin.exists(lockKey())).toBe(0);
    } finally {
      await named.close();
    }
  });

  it('returns from stop() at once while the read after a commit blocks', async () => {
    const [id] = await queue(1);
    const worker = consumer({ blockMs: 10_000 });
    worker.start();
    await waitFor(async () => (await committed()) === id);
    await sleep(100); // the next read (started with the commit) is blocking now
    const started = Date.now();
    await worker.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await admin.exists(lockKey())).toBe(0);
  });

  it('returns from stop() at once while standing by with a long poll', async () => {
    const active = consumer({});
    active.start();
    await waitFor(() => active.isActive);
    const standby = consumer({ standbyPollMs: 10_000 });
    standby.start();
    await sleep(200);
    expect(standby.isActive).toBe(false);
    const started = Date.now();
    await standby.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(active.isActive).toBe(true);
  });

  it('returns from stop() at once when called while the lock is being asked for', async () => {
    const active = consumer({});
    active.start();
    await waitFor(() => active.isActive);
    const standby = consumer({ standbyPollMs: 10_000 });
    standby.start();
    const started = Date.now();
    await standby.stop(); // same tick: the lock request is in flight, no read to interrupt yet
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('lets an in-flight handler finish and commit on stop(), then releases the lock', async () => {
    const ids = await queue(2);
    const release = deferred();
    let calls = 0;
    const worker = consumer({
      handler: () => {
        calls++;
        return release.promise;
      },
    });
    worker.start();
    await waitFor(() => calls === 1);
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await sleep(300);
    expect(stopped).toBe(false);
    expect(await admin.exists(lockKey())).toBe(1);
    release.resolve();
    await stopping;
    expect(await committed()).toBe(ids[1]);
    expect(calls).toBe(1);
    expect(worker.isActive).toBe(false);
    expect(await admin.exists(lockKey())).toBe(0);
    // The release woke the standbys' list.
    expect(await admin.lrange(`${lockKey()}.notify`, 0, -1)).toEqual(['1']);
  });

  it('leaves a failing batch uncommitted when stopped during its backoff', async () => {
    await queue(1);
    let calls = 0;
    const worker = consumer({
      backoffInitialMs: 5_000,
      backoffMaxMs: 5_000,
      handler: () => {
        calls++;
        throw new Error('failing');
      },
    });
    worker.start();
    await waitFor(() => calls === 1);
    const started = Date.now();
    await worker.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toBe(1);
    expect(await committed()).toBeNull();
  });

  it('registers its name in the consumers set once active', async () => {
    const worker = consumer({});
    expect(await redstream.registeredConsumers('products')).toEqual([]);
    worker.start();
    await waitFor(() => worker.isActive);
    expect(await redstream.registeredConsumers('products')).toEqual(['indexer']);
    expect(await admin.smembers(`${namespace}:redstream:consumers:products`)).toEqual(['indexer']);
    const cacher = consumer({ name: 'cacher' });
    cacher.start();
    await waitFor(() => cacher.isActive);
    expect(await redstream.registeredConsumers('products')).toEqual(['cacher', 'indexer']);
  });

  it('is idempotent: start twice, stop twice; stop before start changes nothing', async () => {
    const never = consumer({ name: 'never' });
    await never.stop();
    expect(never.isRunning).toBe(false);
    never.start();
    expect(never.isRunning).toBe(true);
    await never.stop();
    const worker = consumer({});
    worker.start();
    worker.start();
    await waitFor(() => worker.isActive);
    const first = worker.stop();
    expect(worker.stop()).toBe(first);
    await first;
    expect(worker.isActive).toBe(false);
  });
});
