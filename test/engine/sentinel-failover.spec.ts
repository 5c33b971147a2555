import type { RedisOptions } from 'ioredis';
import { describeConnection, Redstream, RedstreamMessage, Trimmer } from '../../lib/engine';
import { RecordingLogger } from '../support/recording-logger';
import { RedisSentinelTopology, startRedisSentinelTopology } from '../support/redis-sentinel';
import { uniqueNamespace, waitFor } from '../support/test-redis';

// A Sentinel-managed Redis (one master, one replica, three sentinels) whose master is killed
// with SIGKILL while a Producer writes and a Consumer, the Delayer and the Trimmer run, all
// through one Sentinel-configured connection.
describe('Redis Sentinel failover', () => {
  let topology: RedisSentinelTopology;
  let redstream: Redstream | undefined;

  beforeAll(async () => {
    topology = await startRedisSentinelTopology();
  }, 60_000);
  afterAll(async () => {
    await redstream?.close();
    await topology?.stop();
  });

  const sentinelOptions = (): RedisOptions => ({
    sentinels: [...topology.sentinels],
    name: topology.masterName,
    // Ask the sentinels again soon after the master is gone, and reconnect when they announce
    // a new one instead of waiting for the old socket to fail.
    sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    failoverDetector: true,
  });

  it('names the sentinel set and the master in log lines, not a default host', () => {
    const described = describeConnection(sentinelOptions());
    expect(described).toContain(`master "${topology.masterName}"`);
    for (const sentinel of topology.sentinels) expect(described).toContain(`127.0.0.1:${sentinel.port}`);
    expect(described).not.toContain('6379');
  });

  it('resumes everything on the promoted replica; every change acknowledged with `wait` is handled', async () => {
    const logger = new RecordingLogger();
    redstream = new Redstream({ redis: sentinelOptions(), namespace: uniqueNamespace('sentinel'), logger });
    const producer = redstream.producer({ wait: { replicas: 1, timeoutMs: 2_000 }, commandTimeoutMs: 20_000 });
    const handled = new Set<number>();
    const consumer = redstream.consumer<{ id: number }>({
      stream: 'products',
      name: 'indexer',
      lockTtlMs: 2_000,
      lockRefreshMs: 500,
      handler: (messages: RedstreamMessage<{ id: number }>[]) => {
        for (const message of messages) handled.add(message.payload.id);
      },
    });
    // Delay messages are what `wait` makes durable: an immediate message lost with the old
    // master's last writes reaches the consumer through the Delayer instead.
    const delayer = redstream.delayer({ stream: 'products', delay: '1s', lockTtlMs: 2_000, lockRefreshMs: 500 });
    const trimmer: Trimmer = redstream.trimmer({
      stream: 'products',
      interval: '500ms',
      lockTtlMs: 2_000,
      lockRefreshMs: 500,
    });
    consumer.start();
    delayer.start();
    trimmer.start();

    const acknowledged: number[] = [];
    const failedCalls: unknown[] = [];
    let next = 0;
    let producing = true;
    const writing = (async () => {
      while (producing) {
        const id = next++;
        try {
          await producer.bulk('products', [{ id }], () => undefined);
          acknowledged.push(id);
        } catch (error) {
          // A call in flight when the master died may fail (WAIT timed out, connection lost);
          // the application sees the error, so such a change is not acknowledged.
          failedCalls.push(error);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })();

    try {
      await waitFor(() => handled.size >= 50, 20_000);
      const killedPort = await topology.currentMasterPort();
      await topology.killMasterAndWaitForFailover();
      // Back as a replica of the new master, so that WAIT can be satisfied again.
      await topology.restartAsReplica(killedPort);
      const countAfterFailover = acknowledged.length;
      await waitFor(() => acknowledged.length >= countAfterFailover + 50, 30_000);
    } finally {
      // Also when a step above fails: a loop left running would keep the Jest worker alive.
      producing = false;
      await writing;
    }

    await waitFor(() => acknowledged.every((id) => handled.has(id)), 30_000);
    expect(consumer.isActive).toBe(true);
    expect(delayer.isActive).toBe(true);
    // The Trimmer deletes again on the new master once the consumer has committed there.
    await waitFor(async () => (await redstream!.streamLength('products')) < acknowledged.length, 20_000);
    await Promise.all([consumer.stop(), delayer.stop(), trimmer.stop()]);
    // Failures were logged (retried with backoff), not swallowed.
    expect(logger.lines.some((line) => line.level === 'warn' || line.level === 'error')).toBe(true);
  }, 150_000);
});
