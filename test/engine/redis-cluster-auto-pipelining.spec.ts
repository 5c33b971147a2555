import { Cluster } from 'ioredis';
import { Redstream, RedstreamMessage, silentLogger } from '../../lib/engine';
import { RedisClusterHandle, startRedisCluster } from '../support/redis-cluster';
import { uniqueNamespace, waitFor } from '../support/test-redis';

const WORKER_OPTIONS = { blockMs: 600, lockTtlMs: 800, lockRefreshMs: 200, standbyPollMs: 100 };
// Hash-tagged into different slots, served by different masters.
const STREAMS = ['{products}', '{orders}'];
const IDS = [1, 2, 3, 4, 5];

// ioredis finds no key in XINFO and XGROUP (a subcommand comes first): an auto-pipelining
// Cluster files them by the subcommand's slot into another node's pipeline, and hands the
// MOVED reply to the caller instead of following it.
describe('a supplied Redis Cluster with enableAutoPipelining', () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;
  let redstream: Redstream;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(() => cluster?.stop());

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
