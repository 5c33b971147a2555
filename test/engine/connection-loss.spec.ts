import Redis from 'ioredis';
import {
  Consumer,
  ConsumerOptions,
  DEFAULT_SOCKET_TIMEOUT_MS,
  Redstream,
  RedstreamReadStalledError,
  silentLogger,
} from '../../lib/engine';
import { scripts } from '../../lib/engine/scripts';
import { CommandProxy, startCommandProxy } from '../support/command-proxy';
import { RedisServerHandle, startRedisServer } from '../support/redis-server';
import { sleep, uniqueNamespace, waitFor } from '../support/test-redis';

/** The ids in order of first appearance: what at-least-once delivery must cover. */
function firstOccurrences(ids: string[]): string[] {
  return [...new Set(ids)];
}

/**
 * Runs against servers of its own: killing every client or restarting Redis would break the
 * other test files sharing the suite's server.
 */
describe('connection loss', () => {
  let server: RedisServerHandle;
  let admin: Redis;
  let namespace: string;
  const cleanups: (() => Promise<unknown>)[] = [];
  const engine = (url: string): Redstream => {
    const created = new Redstream({ redis: url, namespace, logger: silentLogger });
    cleanups.push(() => created.close());
    return created;
  };
  const consumer = (on: Redstream, options: Partial<ConsumerOptions<Record<string, unknown>>>): Consumer => {
    const created = on.consumer({ stream: 'products', name: 'indexer', handler: () => undefined, ...options });
    cleanups.unshift(() => created.stop());
    return created;
  };

  beforeEach(async () => {
    namespace = uniqueNamespace();
    server = await startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    admin = new Redis(server.url, { maxRetriesPerRequest: null });
    admin.on('error', () => undefined);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    admin.disconnect();
    await server.stop();
  });

  it('recovers from CLIENT KILL of all its connections, again and again, without loss', async () => {
    const redstream = engine(server.url);
    const ids = await redstream.producer().queue(
      'products',
      Array.from({ length: 300 }, (_, index) => ({ id: index })),
    );
    const seen: string[] = [];
    const worker = consumer(redstream, {
      batchSize: 5,
      blockMs: 200,
      readGraceMs: 500,
      backoffInitialMs: 20,
      backoffMaxMs: 100,
      handler: async (messages) => {
        seen.push(...messages.map((message) => message.id));
        await sleep(5); // simulated work, so that kills also land inside handlers
      },
    });
    worker.start();
    await waitFor(() => seen.length > 0);
    const committed = (): Promise<string | null> => redstream.committedOffset('products', 'indexer').catch(() => null);
    let kills = 0;
    let offset = await committed();
    while (offset !== ids[299]) {
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      kills++;
      // The next kill comes once this one was recovered from: a commit moved the offset on.
      const killedAt = offset;
      offset = await waitFor(async () => {
        const now = await committed();
        return now !== null && now !== killedAt ? now : undefined;
      }, 10_000);
    }
    expect(kills).toBeGreaterThan(3);
    expect(firstOccurrences(seen)).toEqual(ids);
    // Consumption goes on after the storm.
    const [late] = await redstream.producer().queue('products', { id: 'late' });
    await waitFor(() => seen.includes(late));
  });

  it('resumes after a Redis restart on the same port', async () => {
    let redstream = engine(server.url);
    const before = await redstream.producer().queue('products', [{ id: 1 }, { id: 2 }]);
    const seen: string[] = [];
    const worker = consumer(redstream, {
      blockMs: 300,
      readGraceMs: 500,
      backoffInitialMs: 50,
      backoffMaxMs: 200,
      handler: (messages) => void seen.push(...messages.map((message) => message.id)),
    });
    worker.start();
    await waitFor(() => seen.length === 2);
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === before[1]);

    server = await server.restart();
    const restartedAt = Date.now();
    redstream = engine(server.url);
    const after = await redstream.producer().queue('products', [{ id: 3 }, { id: 4 }]);
    await waitFor(() => seen.includes(after[1]), 10_000);
    const resumedMs = Date.now() - restartedAt;
    expect(resumedMs).toBeLessThan(5_000);
    expect(firstOccurrences(seen)).toEqual([...before, ...after]);
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === after[1]);
  });

  it('resumes after a restart that lost every key (no persistence), from the new stream start', async () => {
    const volatile = await startRedisServer();
    cleanups.push(() => volatile.stop());
    let redstream = engine(volatile.url);
    const seen: string[] = [];
    const worker = consumer(redstream, {
      blockMs: 300,
      readGraceMs: 500,
      lockTtlMs: 1_000,
      lockRefreshMs: 300,
      backoffInitialMs: 50,
      backoffMaxMs: 200,
      handler: (messages) => void seen.push(...messages.map((message) => message.id)),
    });
    worker.start();
    const before = await redstream.producer().queue('products', [{ id: 1 }]);
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === before[0]);

    const restarted = await volatile.restart();
    cleanups.push(() => restarted.stop());
    redstream = engine(restarted.url);
    expect(await redstream.committedOffset('products', 'indexer')).toBeNull();
    const after = await redstream.producer().queue('products', [{ id: 2 }, { id: 3 }]);
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === after[1], 10_000);
    expect(firstOccurrences(seen)).toEqual([...before, ...after]);
  });

  describe('through a proxy that can make one connection go silent', () => {
    let proxy: CommandProxy;
    beforeEach(async () => {
      proxy = await startCommandProxy(server.port);
      cleanups.push(() => proxy.close());
    });

    it('gives owned shared connections a socket timeout, and blocking ones none', async () => {
      const redstream = engine(proxy.url);
      expect((redstream.client as Redis).options.socketTimeout).toBe(DEFAULT_SOCKET_TIMEOUT_MS);
      const blocking = redstream.connections.createBlocking('test') as Redis;
      expect(blocking.options.socketTimeout).toBeUndefined();
      await redstream.connections.release(blocking);
    });

    it('replaces a blocking read that never returns and consumes on (the watchdog)', async () => {
      const redstream = engine(proxy.url);
      const direct = engine(server.url);
      const seen: string[] = [];
      const stalls: Error[] = [];
      const worker = consumer(redstream, {
        blockMs: 300,
        readGraceMs: 300,
        backoffInitialMs: 50,
        handler: (messages) => void seen.push(...messages.map((message) => message.id)),
      });
      worker.on('failed', (error) => stalls.push(error));
      worker.start();
      await waitFor(() => worker.isActive);
      await proxy.silenceNext(/xread/i); // the next XREAD's connection is dead from now on
      const silencedAt = Date.now();
      const [id] = await direct.producer().queue('products', { id: 1 });
      await waitFor(() => seen.includes(id), 5_000);
      // block + grace until the watchdog fires, then a backoff and a fresh read
      expect(Date.now() - silencedAt).toBeLessThan(300 + 300 + 1_000);
      expect(stalls.some((error) => error instanceof RedstreamReadStalledError)).toBe(true);
    });

    it('replaces a shared connection that stopped answering mid-commit, and consumes on', async () => {
      // The suite shortens ioredis' socketTimeout (default here DEFAULT_SOCKET_TIMEOUT_MS).
      const redstream = new Redstream({
        redis: { host: '127.0.0.1', port: proxy.port, socketTimeout: 1_000 },
        namespace,
        logger: silentLogger,
      });
      cleanups.push(() => redstream.close());
      const direct = engine(server.url);
      const seen: string[] = [];
      const failures: Error[] = [];
      const worker = consumer(redstream, {
        blockMs: 2_000, // longer than the socket timeout: blocking reads must not inherit it
        readGraceMs: 1_000,
        lockTtlMs: 5_000,
        lockRefreshMs: 1_000,
        handler: (messages) => void seen.push(...messages.map((message) => message.id)),
      });
      worker.on('failed', (error) => failures.push(error));
      worker.start();
      // The shared connection and the blocking one, which opens just after activation.
      await waitFor(() => worker.isActive && proxy.connections === 2);
      const connectionsBefore = proxy.connections;
      // An absence (no reconnect, no failure) across a whole idle XREAD BLOCK longer than the
      // socket timeout: a fixed window is the test.
      await sleep(2_500);
      expect(proxy.connections).toBe(connectionsBefore);
      expect(failures).toEqual([]);

      await direct.client.script('LOAD', scripts.commitOffset.source);
      const silenced = proxy.silenceNext(new RegExp(scripts.commitOffset.sha));
      const [first] = await direct.producer().queue('products', { id: 1 });
      await silenced;
      const silencedAt = Date.now();
      const [second] = await direct.producer().queue('products', { id: 2 });
      await waitFor(async () => (await direct.committedOffset('products', 'indexer')) === second, 5_000);
      expect(Date.now() - silencedAt).toBeLessThan(1_000 + 2_000);
      expect(firstOccurrences(seen)).toEqual([first, second]);
      expect(worker.isActive).toBe(true);
    });

    it('replaces a standby wait that never returns and still takes over', async () => {
      const redstream = engine(proxy.url);
      const direct = engine(server.url);
      const options = { lockTtlMs: 5_000, lockRefreshMs: 1_000, standbyPollMs: 300, readGraceMs: 300 };
      const active = consumer(direct, options);
      active.start();
      await waitFor(() => active.isActive);
      const standby = consumer(redstream, { ...options, backoffInitialMs: 50 });
      const silenced = proxy.silenceNext(/brpop/i);
      standby.start();
      await silenced;
      await active.stop();
      const stoppedAt = Date.now();
      await waitFor(() => standby.isActive, 5_000);
      expect(Date.now() - stoppedAt).toBeLessThan(300 + 300 + 1_000);
    });
  });
});
