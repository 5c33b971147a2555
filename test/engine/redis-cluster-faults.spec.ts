import Redis, { Cluster, ClusterOptions } from 'ioredis';
import { Consumer, Redstream, RedstreamMessage, Trimmer } from '../../lib/engine';
import { documentedAclRule, documentedClusterAclAdditions } from '../support/documented-acl-rule';
import { RecordingLogger } from '../support/recording-logger';
import { RedisClusterHandle, startRedisCluster } from '../support/redis-cluster';
import { uniqueNamespace, waitFor } from '../support/test-redis';

/** The ioredis Cluster options the README recommends for failover and resharding. */
const CLUSTER_OPTIONS: ClusterOptions = {
  scaleReads: 'master',
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 300,
  retryDelayOnTryAgain: 200,
  maxRedirections: 32,
  slotsRefreshTimeout: 2_000,
  redisOptions: { maxRetriesPerRequest: 3 },
};

const WORKER_TIMING = { lockTtlMs: 2_000, lockRefreshMs: 500, blockMs: 500, standbyPollMs: 200 };

/** One handler call: which instance, which ids, and when (performance clock). */
interface HandlerCall {
  instance: string;
  ids: number[];
  start: number;
  end: number;
}

/**
 * Two instances of one consumer (the lock makes one active), a Delayer and a Trimmer on
 * `{products}`, recording every handler call so that a test can check that the two
 * instances never handled at the same time.
 */
function startWorkers(redstream: Redstream): {
  handled: Set<number>;
  calls: HandlerCall[];
  consumers: Consumer<{ id: number }>[];
  stop(): Promise<void>;
  delayer: ReturnType<Redstream['delayer']>;
  trimmer: Trimmer;
} {
  const handled = new Set<number>();
  const calls: HandlerCall[] = [];
  const consumers = ['a', 'b'].map((instance) =>
    redstream.consumer<{ id: number }>({
      stream: '{products}',
      name: 'indexer',
      ...WORKER_TIMING,
      handler: async (messages: RedstreamMessage<{ id: number }>[]) => {
        const start = performance.now();
        // A little work per batch, so that overlapping owners would show as overlapping calls.
        await new Promise((resolve) => setTimeout(resolve, 5));
        const ids = messages.map((message) => message.payload.id);
        ids.forEach((id) => handled.add(id));
        calls.push({ instance, ids, start, end: performance.now() });
      },
    }),
  );
  const delayer = redstream.delayer({ stream: '{products}', delay: '1s', ...WORKER_TIMING });
  const trimmer = redstream.trimmer({ stream: '{products}', interval: '500ms', ...WORKER_TIMING });
  consumers.forEach((consumer) => consumer.start());
  delayer.start();
  trimmer.start();
  return {
    handled,
    calls,
    consumers,
    delayer,
    trimmer,
    stop: async () => void (await Promise.all([...consumers.map((c) => c.stop()), delayer.stop(), trimmer.stop()])),
  };
}

/** Handler calls of different instances that ran at the same time. */
function overlappingCalls(calls: readonly HandlerCall[]): [HandlerCall, HandlerCall][] {
  const sorted = [...calls].sort((x, y) => x.start - y.start);
  const overlaps: [HandlerCall, HandlerCall][] = [];
  for (let i = 1; i < sorted.length; i++) {
    for (let j = i - 1; j >= 0 && j >= i - 5; j--) {
      if (sorted[j].instance !== sorted[i].instance && sorted[j].end > sorted[i].start) {
        overlaps.push([sorted[j], sorted[i]]);
      }
    }
  }
  return overlaps;
}

/** Writes `{products}` changes in a loop until stopped; records what each call acknowledged. */
function produce(write: (id: number) => Promise<unknown>): {
  acknowledged: number[];
  failures: unknown[];
  stop(): Promise<void>;
} {
  const acknowledged: number[] = [];
  const failures: unknown[] = [];
  let running = true;
  let next = 0;
  const loop = (async () => {
    while (running) {
      const id = next++;
      try {
        await write(id);
        acknowledged.push(id);
      } catch (error) {
        // A call in flight during the fault may fail; the application sees the error, so
        // that change counts as not acknowledged.
        failures.push(error);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  })();
  return {
    acknowledged,
    failures,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/**
 * After a fault: lets 50 more writes be acknowledged, stops the writer and the workers, and
 * checks that every acknowledged change was handled by still active workers, that the Trimmer
 * deleted on the stream's current master once the consumer committed there, and that no two
 * handler calls overlapped.
 */
async function resumedAfterFault(
  redstream: Redstream,
  writer: ReturnType<typeof produce>,
  workers: ReturnType<typeof startWorkers>,
): Promise<void> {
  const countAfterFault = writer.acknowledged.length;
  await waitFor(() => writer.acknowledged.length >= countAfterFault + 50, 30_000);
  await writer.stop();

  await waitFor(() => writer.acknowledged.every((id) => workers.handled.has(id)), 30_000);
  expect(workers.consumers.some((consumer) => consumer.isActive)).toBe(true);
  expect(workers.delayer.isActive).toBe(true);
  await waitFor(async () => (await redstream.streamLength('{products}')) < writer.acknowledged.length, 20_000);
  await workers.stop();
  expect(overlappingCalls(workers.calls)).toEqual([]);
}

// Three masters with one replica each, started by the suite, with a short cluster-node-timeout
// so that a replica is promoted within a few seconds of its master's death.
describe('Redis Cluster failover and resharding', () => {
  let cluster: RedisClusterHandle;
  let client: Cluster | undefined;
  let redstream: Redstream | undefined;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1_500 });
  }, 90_000);
  afterAll(() => cluster?.stop());
  afterEach(async () => {
    await redstream?.close();
    client?.disconnect();
    redstream = undefined;
    client = undefined;
  });

  it('resumes on the promoted replica after its master is killed; nothing acknowledged with `wait` is lost', async () => {
    client = new Cluster([...cluster.nodes], CLUSTER_OPTIONS);
    const logger = new RecordingLogger();
    redstream = new Redstream({ redis: client, namespace: uniqueNamespace('cluster-failover'), logger });
    const workers = startWorkers(redstream);
    const producer = redstream.producer({ wait: { replicas: 1, timeoutMs: 1_000 }, commandTimeoutMs: 20_000 });
    // bulk(): the immediate messages may be lost with the old master's last writes; the delay
    // messages, acknowledged by a replica (`wait`), reach the consumer through the Delayer.
    // delay() + queueAfterDelay(), the two halves the TypeORM integration writes, likewise.
    const writer = produce(async (id) => {
      if (id % 2 === 0) return producer.bulk('{products}', [{ id }], () => undefined);
      const delayIds = await producer.delay('{products}', { id });
      return producer.queueAfterDelay('{products}', { id }, delayIds);
    });

    await waitFor(() => workers.handled.size >= 50, 30_000);
    const killed = await cluster.killMasterOf('{products}');
    // Back as a replica of the promoted node, so that WAIT can be satisfied again.
    await cluster.restartNode(killed);
    await resumedAfterFault(redstream, writer, workers);
    // The fault was logged (and retried with backoff), not swallowed.
    expect(logger.lines.some((line) => line.level === 'warn' || line.level === 'error')).toBe(true);
  }, 150_000);

  it("moves a stream's slot to another master during a run; everything resumes, nothing is lost", async () => {
    client = new Cluster([...cluster.nodes], CLUSTER_OPTIONS);
    const logger = new RecordingLogger();
    redstream = new Redstream({ redis: client, namespace: uniqueNamespace('cluster-reshard'), logger });
    const workers = startWorkers(redstream);
    const producer = redstream.producer({ commandTimeoutMs: 20_000 });
    const writer = produce((id) =>
      id % 2 === 0 ? producer.queue('{products}', { id }) : producer.bulk('{products}', [{ id }], () => undefined),
    );

    for (let round = 0; round < 2; round++) {
      const before = writer.acknowledged.length;
      await waitFor(() => writer.acknowledged.length >= before + 50, 30_000);
      const source = await cluster.masterPortOf('{products}');
      const target = (await cluster.masterPorts()).find((port) => port !== source)!;
      // Slowly, key by key: meanwhile the stream's keys live on two nodes (ASK, TRYAGAIN).
      await cluster.migrateSlotOf('{products}', target, 300);
      expect(await cluster.masterPortOf('{products}')).toBe(target);
    }
    await resumedAfterFault(redstream, writer, workers);
    expect(writer.failures).toEqual([]);
  }, 150_000);

  it('runs under the documented ACL user with the Cluster additions, set on every node', async () => {
    const user = uniqueNamespace('acl-user');
    const password = 'acl-cluster-secret';
    const namespace = uniqueNamespace('acl-cluster');
    await cluster.onEveryNode(
      'ACL',
      'SETUSER',
      user,
      ...documentedAclRule(user, password, namespace),
      ...documentedClusterAclAdditions(),
    );
    client = new Cluster([...cluster.nodes], {
      ...CLUSTER_OPTIONS,
      redisOptions: { ...CLUSTER_OPTIONS.redisOptions, username: user, password },
    });
    const logger = new RecordingLogger();
    redstream = new Redstream({ redis: client, namespace, logger });
    const workers = startWorkers(redstream);
    const producer = redstream.producer({ commandTimeoutMs: 20_000 });
    await producer.queue('{products}', [{ id: 1 }, { id: 2 }]);
    await producer.bulk('{products}', [{ id: 3 }], () => undefined);
    await producer.delay('{products}', { id: 4 });
    await waitFor(() => workers.handled.size === 4, 20_000);
    // A resharding makes ioredis read the slot map again (MOVED) and meet ASK and TRYAGAIN.
    const source = await cluster.masterPortOf('{products}');
    const target = (await cluster.masterPorts()).find((port) => port !== source)!;
    await cluster.migrateSlotOf('{products}', target, 100);
    await producer.queue('{products}', { id: 5 });
    await waitFor(() => workers.handled.has(5), 20_000);
    await waitFor(async () => (await redstream!.streamLength('{products}')) < 5, 20_000);
    await workers.stop();

    const denials = await Promise.all(
      cluster.servers
        .filter((server) => server.process.exitCode === null && server.process.signalCode === null)
        .map(async (server) => {
          const admin = new Redis({ port: server.port, host: '127.0.0.1' });
          try {
            const entries = (await admin.call('ACL', 'LOG', '128')) as unknown[][];
            return entries
              .map((raw) => raw.map(String))
              .filter((raw) => raw[raw.indexOf('username') + 1] === user)
              .map((raw) => `${server.port}: ${raw[raw.indexOf('reason') + 1]} ${raw[raw.indexOf('object') + 1]}`);
          } finally {
            admin.disconnect();
          }
        }),
    );
    expect(denials.flat()).toEqual([]);
    expect(logger.matching('error', /NOPERM/)).toEqual([]);
  }, 120_000);
});
