import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Redstream, RedstreamConnectionError, RedstreamError, RedstreamTimeoutError } from '../../lib/engine';
import { freePort, RedisServerHandle, startRedisServer } from '../support/redis-server';
import { uniqueNamespace, waitFor } from '../support/test-redis';
import { RecordingLogger } from '../support/recording-logger';

// Redis is unreachable at start-up, goes away while the Producer writes, or refuses our
// password. Services must retry with backoff and say so in the log; Producer calls must fail
// loudly and in bounded time; nothing may be acknowledged and then missing.
describe('Redis outages', () => {
  const servers: RedisServerHandle[] = [];
  const dirs: string[] = [];
  const engines: Redstream[] = [];

  afterEach(async () => {
    await Promise.all(engines.splice(0).map((engine) => engine.close()));
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function engine(url: string, logger: RecordingLogger): Redstream {
    const redstream = new Redstream({ redis: url, namespace: uniqueNamespace('outage'), logger });
    engines.push(redstream);
    return redstream;
  }

  // A server whose AOF survives restarts (the harness's own helper deletes a directory it created).
  async function durableServer(): Promise<RedisServerHandle> {
    const dir = mkdtempSync(join(tmpdir(), 'redstream-outage-'));
    dirs.push(dir);
    const server = await startRedisServer({ dir, args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    servers.push(server);
    return server;
  }

  it('services started while Redis is down retry with backoff, log, and start working when it comes', async () => {
    const port = await freePort();
    const logger = new RecordingLogger();
    const redstream = engine(`redis://127.0.0.1:${port}`, logger);
    const handled: unknown[] = [];
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      blockMs: 300,
      readGraceMs: 300,
      backoffInitialMs: 50,
      backoffMaxMs: 400,
      handler: (messages) => void handled.push(...messages.map((message) => message.payload.id)),
    });
    const delayer = redstream.delayer({ stream: 'products', delay: 1, blockMs: 300, backoffMaxMs: 400 });
    const trimmer = redstream.trimmer({ stream: 'products', interval: 200, backoffMaxMs: 400 });
    consumer.start();
    delayer.start();
    trimmer.start();

    // Until both the Consumer and the Trimmer have said that they retry.
    const startedAt = Date.now();
    await waitFor(
      () =>
        logger.matching('error', /Consumer products:indexer: .*retrying in \d+ ms/).length > 0 &&
        logger.matching('error', /Trimmer products: .*retrying in \d+ ms/).length > 0,
      10_000,
    );
    expect(consumer.isActive).toBe(false);
    // Capped backoff, not a hot loop: a few dozen lines per second at most for three services.
    const seconds = Math.max(1, (Date.now() - startedAt) / 1_000);
    expect(logger.matching('error', /retrying/).length).toBeLessThan(30 * seconds);

    const server = await startRedisServer({ port });
    servers.push(server);
    await waitFor(() => consumer.isActive, 10_000);
    const producer = redstream.producer();
    await producer.queue('products', { id: 1 });
    await producer.delay('products', { id: 2 });
    await waitFor(() => handled.length === 2, 10_000);
    expect(handled).toEqual([1, 2]);
    await Promise.all([consumer.stop(), delayer.stop(), trimmer.stop()]);
  }, 30_000);

  it('Producer calls reject within commandTimeoutMs while Redis is down, and nothing acknowledged is lost', async () => {
    const server = await durableServer();
    const redstream = engine(server.url, new RecordingLogger());
    const producer = redstream.producer({ commandTimeoutMs: 1_000 });
    const acknowledged: string[] = [];
    acknowledged.push(...(await producer.queue('products', [{ id: 1 }, { id: 2 }])));

    await server.stop();
    const outcomes = await Promise.all(
      [3, 4, 5].map(async (id) => {
        const startedAt = Date.now();
        try {
          acknowledged.push(...(await producer.queue('products', { id })));
          return { id, ok: true, ms: Date.now() - startedAt };
        } catch (error) {
          return { id, ok: false, ms: Date.now() - startedAt, error: error as Error };
        }
      }),
    );
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      expect(outcome.ms).toBeLessThan(2_500);
      expect(outcome.error).toBeInstanceOf(RedstreamError);
      expect(outcome.error instanceof RedstreamTimeoutError || outcome.error instanceof RedstreamConnectionError).toBe(
        true,
      );
      expect(outcome.error?.message).toMatch(/Producer\.queue\(products\)|Redis/);
    }

    servers.push(await server.restart());
    // The same client recovers once Redis is back.
    await waitFor(
      () =>
        producer.queue('products', { id: 6 }).then(
          (ids) => acknowledged.push(...ids),
          () => false,
        ),
      10_000,
      100,
    );
    const inStream = (await redstream.client.xrange(redstream.keys.stream('products'), '-', '+')).map(([id]) => id);
    for (const id of acknowledged) expect(inStream).toContain(id);
  }, 30_000);

  it('a wrong password gives a clear error: Producer rejects, services log and retry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redstream-auth-'));
    dirs.push(dir);
    // Set after start: the harness's readiness PING has no password.
    const server = await startRedisServer({ dir });
    servers.push(server);
    const admin = new Redis(server.port, { maxRetriesPerRequest: 1 });
    await admin.config('SET', 'requirepass', 'right-secret');
    const logger = new RecordingLogger();
    const redstream = engine(`redis://:wrong-secret@127.0.0.1:${server.port}`, logger);

    const producer = redstream.producer({ commandTimeoutMs: 2_000 });
    const error = await producer.queue('products', { id: 1 }).then(
      () => undefined,
      (reason: Error) => reason,
    );
    expect(error).toBeInstanceOf(RedstreamConnectionError);
    expect(error?.message).toMatch(/WRONGPASS|NOAUTH|invalid username-password/);

    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      blockMs: 300,
      backoffMaxMs: 300,
      handler: () => undefined,
    });
    consumer.start();
    await waitFor(() => logger.matching('error', /WRONGPASS|NOAUTH|invalid username-password/).length > 0, 5_000);
    expect(consumer.isActive).toBe(false);
    await consumer.stop();
    // The password never shows in a log line.
    expect(logger.lines.filter((line) => line.message.includes('wrong-secret'))).toEqual([]);

    expect(await admin.exists(redstream.keys.stream('products'))).toBe(0);
    admin.disconnect();
  }, 30_000);

  // ioredis's disconnect() on a client that is 'reconnecting' clears its retry timer without
  // ending it, so the client stays 'reconnecting' for ever and the commands queued on it never
  // settle (ioredis PR #2169, bullmq #4585). Redstream.close() therefore stops its workers
  // before it closes their connections.
  it('a worker stopped after Redstream.close() during an outage still stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redstream-park-'));
    dirs.push(dir);
    const server = await startRedisServer({ dir });
    const redstream = engine(server.url, new RecordingLogger());
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      blockMs: 200,
      lockTtlMs: 1_000,
      lockRefreshMs: 300,
      backoffMaxMs: 200,
      handler: () => undefined,
    });
    consumer.start();
    await waitFor(() => consumer.isActive);
    await server.stop();
    // The shared connection is 'reconnecting' now: the state ioredis's disconnect() mishandles.
    await waitFor(() => redstream.connections.client().status === 'reconnecting', 5_000);
    await redstream.close();
    servers.push(await startRedisServer({ port: server.port, dir }));
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      consumer.stop().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 3_000))),
    ]);
    clearTimeout(timer);
    expect(stopped).toBe(true);
  }, 15_000);
});
