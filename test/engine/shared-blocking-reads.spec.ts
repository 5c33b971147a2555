import Redis from 'ioredis';
import { BlockingReadsMode, Consumer, Delayer, Redstream, silentLogger, Trimmer } from '../../lib/engine';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { RedisMonitor } from '../support/redis-monitor';

/** What one engine runs per stream in the scenario of the issue: two consumers, a delayer and a trimmer. */
interface StreamWorkers {
  consumers: Consumer[];
  delayer: Delayer;
  trimmer: Trimmer;
}

/** Orders two stream ids (`<ms>-<seq>`) numerically. */
function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

describe('shared blocking reads (blockingReads)', () => {
  let namespace: string;
  let admin: Redis;
  const engines: Redstream[] = [];

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((redstream) => redstream.close()));
    await admin.quit();
  });

  /** An engine whose connections all carry `connectionName`, so CLIENT LIST can count them. */
  function engine(connectionName: string, blockingReads?: BlockingReadsMode): Redstream {
    const url = new URL(testRedisUrl());
    const redstream = new Redstream({
      redis: { host: url.hostname, port: Number(url.port), connectionName },
      namespace,
      logger: silentLogger,
      blockingReads,
    });
    engines.push(redstream);
    return redstream;
  }

  async function connectionsNamed(name: string): Promise<number> {
    const listing = String(await admin.call('CLIENT', 'LIST'));
    return listing.split('\n').filter((line) => line.includes(` name=${name} `)).length;
  }

  function startStreams(
    redstream: Redstream,
    streams: string[],
    handled: Map<string, string[]>,
    options: { lockTtlMs?: number; lockRefreshMs?: number; standbyPollMs?: number } = {},
  ): StreamWorkers[] {
    return streams.map((stream) => {
      const consumers = ['indexer', 'mailer'].map((name) =>
        redstream.consumer({
          stream,
          name,
          ...options,
          handler: (messages) => {
            const seen = handled.get(`${stream}/${name}`) ?? [];
            seen.push(...messages.map((message) => message.id));
            handled.set(`${stream}/${name}`, seen);
          },
        }),
      );
      const delayer = redstream.delayer({ stream, delay: 50, ...options });
      const trimmer = redstream.trimmer({ stream, consumerNames: ['indexer', 'mailer'], interval: 1_000, ...options });
      for (const worker of [...consumers, delayer, trimmer]) worker.start();
      return { consumers, delayer, trimmer };
    });
  }

  const allWorkers = (workers: StreamWorkers[]): (Consumer | Delayer | Trimmer)[] =>
    workers.flatMap(({ consumers, delayer, trimmer }) => [...consumers, delayer, trimmer]);

  it('runs 20 streams x (2 consumers, a delayer, a trimmer) in at most 4 connections, standbys included', async () => {
    const streams = Array.from({ length: 20 }, (_, index) => `products${index}`);
    const activeName = uniqueNamespace('active');
    const standbyName = uniqueNamespace('standby');
    const producer = engine(uniqueNamespace('producer')).producer();
    const handled = new Map<string, string[]>();
    const timing = { lockTtlMs: 2_000, lockRefreshMs: 500, standbyPollMs: 10_000 };
    const active = startStreams(engine(activeName), streams, handled, timing);
    await waitFor(() => allWorkers(active).every((worker) => worker.isActive), 20_000);
    // A second engine with the same workers, as a second process: all of them stand by.
    const standbyEngine = engine(standbyName);
    const standby = startStreams(standbyEngine, streams, handled, timing);

    const queued = new Map<string, string[]>();
    for (const stream of streams) queued.set(stream, await producer.queue(stream, [{ n: 1 }, { n: 2 }, { n: 3 }]));
    const [delayedId] = await producer.delay(streams[7], { n: 'late' });
    await waitFor(() =>
      streams.every((stream) =>
        ['indexer', 'mailer'].every((name) => (handled.get(`${stream}/${name}`)?.length ?? 0) >= 3),
      ),
    );
    for (const stream of streams) {
      // In order per stream, each once.
      expect(handled.get(`${stream}/indexer`)?.slice(0, 3)).toEqual(queued.get(stream));
      expect(handled.get(`${stream}/mailer`)?.slice(0, 3)).toEqual(queued.get(stream));
    }
    // The delayer re-queued the delay message into the stream: a new id, handled by both.
    await waitFor(() => (handled.get(`${streams[7]}/indexer`)?.length ?? 0) === 4);
    expect(handled.get(`${streams[7]}/indexer`)?.[3]).not.toBe(delayedId);
    expect(standby.every(({ consumers }) => consumers.every((consumer) => !consumer.isActive))).toBe(true);

    const activeConnections = await connectionsNamed(activeName);
    const standbyConnections = await connectionsNamed(standbyName);
    console.log(`80 workers: ${activeConnections} connections active, ${standbyConnections} on standby`);
    expect(activeConnections).toBeLessThanOrEqual(4);
    expect(standbyConnections).toBeLessThanOrEqual(4);

    // A graceful stop hands every lock over to the standbys, which read on.
    const stoppedAt = Date.now();
    await Promise.all(allWorkers(active).map((worker) => worker.stop()));
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    await waitFor(() => allWorkers(standby).every((worker) => worker.isActive), 20_000);
    const more = await producer.queue(streams[3], { n: 4 });
    await waitFor(() => handled.get(`${streams[3]}/mailer`)?.includes(more[0]));
    expect(await connectionsNamed(standbyName)).toBeLessThanOrEqual(4);
  }, 90_000);

  it('reads 100 workers in at most 4 connections, and counts one per worker with per-worker', async () => {
    const streams = Array.from({ length: 50 }, (_, index) => `orders${index}`);
    const counts: Record<string, number> = {};
    for (const mode of ['shared', 'per-worker'] as const) {
      const name = uniqueNamespace(mode);
      const redstream = engine(name, mode);
      const handled = new Map<string, string[]>();
      const consumers = streams.flatMap((stream) =>
        ['indexer', 'mailer'].map((consumer) =>
          redstream.consumer({
            stream: `${mode}-${stream}`,
            name: consumer,
            handler: (messages) =>
              void handled.set(
                `${stream}/${consumer}`,
                messages.map((message) => message.id),
              ),
          }),
        ),
      );
      consumers.forEach((consumer) => consumer.start());
      await waitFor(() => consumers.every((consumer) => consumer.isActive), 20_000);
      const producer = redstream.producer();
      await producer.queue(`${mode}-${streams[42]}`, { n: 1 });
      await waitFor(() => handled.has(`${streams[42]}/mailer`));
      // The per-worker connections open on the first read of each worker.
      await waitFor(async () => mode === 'shared' || (await connectionsNamed(name)) >= 100);
      counts[mode] = await connectionsNamed(name);
      await Promise.all(consumers.map((consumer) => consumer.stop()));
    }
    console.log(`100 reading workers: ${counts.shared} connections shared, ${counts['per-worker']} per worker`);
    // The shared command connection, the shared XREAD and the Producer's.
    expect(counts.shared).toBeLessThanOrEqual(4 + 1);
    expect(counts['per-worker']).toBeGreaterThan(100);
  }, 90_000);

  it('keeps one slow handler from delaying another stream', async () => {
    const redstream = engine(uniqueNamespace('slow'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowSeen: string[] = [];
    const fastSeen: string[] = [];
    const slow = redstream.consumer({
      stream: 'slow',
      name: 'indexer',
      handler: async (messages) => {
        slowSeen.push(...messages.map((message) => message.id));
        await gate;
      },
    });
    const fast = redstream.consumer({
      stream: 'fast',
      name: 'indexer',
      handler: (messages) => void fastSeen.push(...messages.map((message) => message.id)),
    });
    slow.start();
    fast.start();
    await waitFor(() => slow.isActive && fast.isActive);
    const producer = redstream.producer();
    await producer.queue('slow', [{ n: 1 }]);
    await waitFor(() => slowSeen.length === 1);
    // The slow handler is still running (its read ahead waits on the shared connection).
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      ids.push(...(await producer.queue('fast', { n })));
      await waitFor(() => fastSeen.length === ids.length, 2_000);
    }
    expect(fastSeen).toEqual(ids);
    release();
    const [next] = await producer.queue('slow', { n: 2 });
    await waitFor(() => slowSeen.includes(next));
  });

  it('interrupts the shared read for a newly waiting stream instead of waiting out its block time', async () => {
    const redstream = engine(uniqueNamespace('late'));
    const seen: string[] = [];
    const first = redstream.consumer({ stream: 'first', name: 'indexer', blockMs: 30_000, handler: () => undefined });
    first.start();
    await waitFor(() => first.isActive);
    // The shared XREAD now blocks for 30 s on `first` alone.
    await waitFor(async () => String(await admin.call('CLIENT', 'LIST')).includes('cmd=xread'));
    const late = redstream.consumer({
      stream: 'late',
      name: 'indexer',
      blockMs: 30_000,
      handler: (messages) => void seen.push(...messages.map((message) => message.id)),
    });
    late.start();
    await waitFor(() => late.isActive);
    const [id] = await redstream.producer().queue('late', { n: 1 });
    const queuedAt = Date.now();
    await waitFor(() => seen.includes(id), 5_000);
    expect(Date.now() - queuedAt).toBeLessThan(2_000);
  });

  it('blocks after the last entry handed out once a burst is drained, never re-reading handed entries', async () => {
    const redstream = engine(uniqueNamespace('burst'));
    const streamKey = `${namespace}:redstream:stream:burst`;
    const readAfter: string[] = [];
    const monitor = await RedisMonitor.open(admin);
    try {
      monitor.onCommand(({ args }) => {
        const streams = args.findIndex((arg) => arg.toUpperCase() === 'STREAMS');
        if (args[0]?.toLowerCase() !== 'xread' || streams < 0) return;
        const keys = args.slice(streams + 1);
        const index = keys.indexOf(streamKey);
        if (index >= 0) readAfter.push(keys[index + keys.length / 2]);
      });
      const ids = await redstream.producer().queue(
        'burst',
        Array.from({ length: 350 }, (_, n) => ({ n })),
      );
      const handled: string[] = [];
      const consumer = redstream.consumer({
        stream: 'burst',
        name: 'indexer',
        batchSize: 100,
        handler: (messages) => void handled.push(...messages.map((message) => message.id)),
      });
      consumer.start();
      await waitFor(() => handled.length === ids.length);
      // Idle now: the shared XREAD blocks on the stream, after the last id handed out.
      await waitFor(() => readAfter.includes(ids[ids.length - 1]));
      await waitFor(async () => String(await admin.call('CLIENT', 'LIST')).includes('cmd=xread'));
      expect(handled).toEqual(ids);
      // Each read of the stream starts where the one before ended, or later: none goes back.
      const backwards = readAfter.filter((id, index) => index > 0 && compareIds(id, readAfter[index - 1]) < 0);
      expect(backwards).toEqual([]);
      await consumer.stop();
    } finally {
      monitor.close();
    }
  });

  it('rejects an unknown blockingReads mode', () => {
    expect(() => engine('unused', 'pooled' as never)).toThrow(/blockingReads/);
  });
});
