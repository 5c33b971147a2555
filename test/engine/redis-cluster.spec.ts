import { Cluster } from 'ioredis';
import { Consumer, Redstream, RedstreamMessage, RedstreamReplicationError, silentLogger } from '../../lib/engine';
import { RedisClusterHandle, startRedisCluster } from '../support/redis-cluster';
import { sleep, uniqueNamespace, waitFor } from '../support/test-redis';

const WORKER_OPTIONS = { blockMs: 600, lockTtlMs: 800, lockRefreshMs: 200, standbyPollMs: 100 };

// One cluster for the whole file: starting one takes seconds.
let cluster: RedisClusterHandle;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 30_000);
afterAll(() => cluster?.stop());

describe('Redis Cluster (3 masters)', () => {
  let client: Cluster;
  let redstream: Redstream;

  beforeEach(() => {
    // A socket timeout below the consumers' block time: only the blocking connections, which
    // must not inherit it, would trip over it.
    client = new Cluster([...cluster.nodes], { redisOptions: { maxRetriesPerRequest: 3, socketTimeout: 300 } });
    redstream = new Redstream({ redis: client, namespace: uniqueNamespace(), logger: silentLogger });
  });
  afterEach(async () => {
    await redstream.close();
    client.disconnect();
  });

  it('keeps every key of a hash-tagged stream in one slot, and two streams in different slots', async () => {
    const slot = async (key: string): Promise<number> => Number(await client.cluster('KEYSLOT', key));
    const { keys } = redstream;
    const lock = keys.lock('consumer:{products}:indexer');
    const productKeys = [
      keys.stream('{products}'),
      keys.delayStream('{products}'),
      keys.offset('{products}', 'indexer'),
      lock,
      keys.notify(lock),
      keys.consumerRegistry('{products}'),
    ];
    const slots = await Promise.all(productKeys.map(slot));
    expect(new Set(slots).size).toBe(1);
    expect(await slot(keys.stream('{orders}'))).not.toBe(slots[0]);
  });

  it('lists the streams in status() through a client that is still connecting', async () => {
    await redstream.producer().queue('{products}', { id: 1 });
    const connecting = new Cluster([...cluster.nodes]);
    const fresh = new Redstream({ redis: connecting, namespace: redstream.keys.namespace, logger: silentLogger });
    try {
      const status = await fresh.status();
      expect(status.streams.map((stream) => stream.stream)).toEqual(['{products}']);
    } finally {
      await fresh.close();
      connecting.disconnect();
    }
  });

  it('runs a WAIT on the node that took the delay messages', async () => {
    // No replicas: WAIT answers 0 after its timeout, from the right node rather than a cross-slot error.
    const producer = redstream.producer({ wait: { replicas: 1, timeoutMs: 50 } });
    await expect(producer.delay('{products}', { id: 1 })).rejects.toBeInstanceOf(RedstreamReplicationError);
    expect(await redstream.delayStreamLength('{products}')).toBe(1);
  });

  it("gives blocking reads connections without the supplied client's socket timeout", async () => {
    const received: number[] = [];
    const failures: string[] = [];
    const consumer = redstream.consumer({
      stream: '{products}',
      name: 'idle',
      ...WORKER_OPTIONS,
      blockMs: 800,
      readGraceMs: 300,
      handler: (messages: RedstreamMessage[]) => void received.push(...messages.map((m) => m.payload.id as number)),
    });
    consumer.on('failed', (error: Error) => failures.push(error.message));
    consumer.start();
    await waitFor(() => consumer.isActive);
    // Two block times with nothing to read: a 300 ms socket timeout would cut every XREAD. An
    // absence (no 'failed' during the window), so a fixed window is the test.
    await sleep(1_700);
    await redstream.producer().queue('{products}', { id: 1 });
    await waitFor(() => received.length === 1);
    await consumer.stop();
    expect(failures).toEqual([]);
  });

  it('produces and consumes two streams concurrently, delays, trims and hands over', async () => {
    const producer = redstream.producer();
    const seen: Record<string, number[]> = { '{products}': [], '{orders}': [] };
    const consumers: Consumer[] = Object.keys(seen).map((stream) =>
      redstream.consumer({
        stream,
        name: 'indexer',
        batchSize: 50,
        ...WORKER_OPTIONS,
        handler: (messages: RedstreamMessage[]) =>
          void seen[stream].push(...messages.map((m) => m.payload.id as number)),
      }),
    );
    const failures: string[] = [];
    const watchFailures = (worker: { on(event: 'failed', listener: (error: Error) => void): unknown }): void =>
      void worker.on('failed', (error: Error) => failures.push(error.message));
    consumers.forEach((consumer) => {
      watchFailures(consumer);
      consumer.start();
    });

    // Calls on both streams in one tick: on a single node they share pipelines, which a Cluster
    // refuses when their keys span slots.
    const ids = Array.from({ length: 300 }, (_, i) => i + 1);
    await Promise.all([
      ...ids.map((id) => producer.queue('{products}', { id })),
      ...ids.map((id) => producer.queue('{orders}', { id })),
    ]);
    await producer.queue('{orders}', [{ id: 301 }, { id: 302 }]);
    await producer.bulk('{products}', [{ id: 301 }, { id: 302 }], () => undefined);
    await waitFor(() => seen['{products}'].length >= 302 && seen['{orders}'].length >= 302, 10_000);
    expect(seen['{products}']).toEqual([...ids, 301, 302]);
    expect(seen['{orders}']).toEqual([...ids, 301, 302]);

    // The bulk's delay message is re-queued by the Delayer once it is due.
    const delayer = redstream.delayer({ stream: '{products}', delay: 300, ...WORKER_OPTIONS });
    watchFailures(delayer);
    delayer.start();
    await producer.delay('{orders}', { id: 303 });
    await waitFor(() => seen['{products}'].length === 304, 10_000);
    expect(seen['{products}'].slice(302)).toEqual([301, 302]);
    await delayer.stop();

    await waitFor(async () => (await redstream.streamLength('{orders}')) === 302);
    const lastOrder = await waitFor(async () => {
      const offset = await redstream.committedOffset('{orders}', 'indexer');
      return offset && seen['{orders}'].length === 302 ? offset : undefined;
    });
    expect(lastOrder).toBeTruthy();
    const trimmer = redstream.trimmer({ stream: '{orders}' });
    const trimmed = await trimmer.trimOnce();
    expect(trimmed.trimmed).toBe(302);
    expect(await redstream.streamLength('{orders}')).toBe(0);
    expect(await redstream.registeredConsumers('{orders}')).toEqual(['indexer']);
    await trimmer.stop();

    // A second instance of {products}/indexer waits on standby and takes over after a stop.
    const standby = redstream.consumer({
      stream: '{products}',
      name: 'indexer',
      batchSize: 50,
      ...WORKER_OPTIONS,
      handler: (messages: RedstreamMessage[]) =>
        void seen['{products}'].push(...messages.map((m) => m.payload.id as number)),
    });
    watchFailures(standby);
    standby.start();
    await waitFor(() => consumers[0].isActive);
    expect(standby.isActive).toBe(false);
    await consumers[0].stop();
    await waitFor(() => standby.isActive, 5_000);
    await producer.queue('{products}', { id: 400 });
    await waitFor(() => seen['{products}'].length === 305);
    expect(seen['{products}'][304]).toBe(400);

    await Promise.all([standby.stop(), consumers[1].stop()]);
    expect(failures).toEqual([]);
  });
});

// Hash-tagged into different slots, served by different masters.
const STREAMS = ['{products}', '{orders}'];
const IDS = [1, 2, 3, 4, 5];

// ioredis finds no key in XINFO and XGROUP (a subcommand comes first): an auto-pipelining
// Cluster files them by the subcommand's slot into another node's pipeline, and hands the
// MOVED reply to the caller instead of following it.
describe('a supplied Redis Cluster with enableAutoPipelining', () => {
  let client: Cluster;
  let redstream: Redstream;

  beforeEach(() => {
    client = new Cluster([...cluster.nodes], { enableAutoPipelining: true });
    redstream = new Redstream({ redis: client, namespace: uniqueNamespace(), logger: silentLogger });
  });
  afterEach(async () => {
    await redstream.close();
    client.disconnect();
  });

  it('consumes, commits, reads group info and status, and trims two streams in different slots', async () => {
    const seen = new Map<string, number[]>(STREAMS.map((stream) => [stream, []]));
    const grouped = new Map<string, number[]>(STREAMS.map((stream) => [stream, []]));
    const failures: string[] = [];
    const workers = STREAMS.flatMap((stream) => [
      redstream.consumer({
        stream,
        name: 'indexer',
        ...WORKER_OPTIONS,
        handler: (messages: RedstreamMessage[]) =>
          void seen.get(stream)?.push(...messages.map((m) => m.payload.id as number)),
      }),
      redstream.groupConsumer({
        stream,
        group: 'search',
        ...WORKER_OPTIONS,
        handler: (messages: RedstreamMessage[]) =>
          void grouped.get(stream)?.push(...messages.map((m) => m.payload.id as number)),
      }),
    ]);
    workers.forEach((worker) => {
      worker.on('failed', (error: Error) => failures.push(error.message));
      worker.start();
    });
    await waitFor(() => workers.every((worker) => worker.isActive));

    const producer = redstream.producer();
    await Promise.all(STREAMS.flatMap((stream) => IDS.map((id) => producer.queue(stream, { id }))));
    const done = (handled: Map<string, number[]>): boolean =>
      STREAMS.every((stream) => handled.get(stream)?.length === IDS.length);
    await waitFor(() => done(seen) && done(grouped), 10_000);
    // Commits (a script) and acks land after their batch is handled: status() tells when.
    await waitFor(async () => {
      const status = await redstream.status();
      return STREAMS.every((stream) => {
        const found = status.streams.find((candidate) => candidate.stream === stream);
        return found?.consumers[0]?.lag === 0 && found.groups[0]?.pending === 0 && found.groups[0].lag === 0;
      });
    });

    // All at once, so that each shares auto-pipelines with the other stream's calls.
    const infos = await Promise.all(STREAMS.map((stream) => redstream.groupInfo(stream, 'search')));
    expect(infos.map((info) => info?.members.length)).toEqual([1, 1]);
    const trimmers = STREAMS.map((stream) => redstream.trimmer({ stream }));
    const trimmed = await Promise.all(trimmers.map((trimmer) => trimmer.trimOnce()));
    expect(trimmed.map((result) => result.trimmed)).toEqual([IDS.length, IDS.length]);
    await Promise.all([...trimmers, ...workers].map((worker) => worker.stop()));
    expect(failures).toEqual([]);
  });
});
