import Redis from 'ioredis';
import { Redstream, RedstreamConnectionError, redstreamShards } from '../../lib/engine';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { documentedAclRule } from '../support/documented-acl-rule';
import { RecordingLogger } from '../support/recording-logger';

interface AclLogEntry {
  username: string;
  reason: string;
  object: string;
}

async function aclDenials(admin: Redis, user: string): Promise<string[]> {
  const entries = (await admin.call('ACL', 'LOG', '128')) as unknown[][];
  return entries
    .map((raw) => {
      const entry: Record<string, unknown> = {};
      for (let i = 0; i + 1 < raw.length; i += 2) entry[String(raw[i])] = raw[i + 1];
      return entry as unknown as AclLogEntry;
    })
    .filter((entry) => entry.username === user)
    .map((entry) => `${entry.reason} ${entry.object}`);
}

// The documented ACL line is enough for the whole flow, and nothing beyond it is tried.
describe('least privilege', () => {
  const password = 'acl-test-secret';
  let admin: Redis;
  let user: string;
  let namespace: string;
  let redstream: Redstream;
  let logger: RecordingLogger;

  beforeEach(async () => {
    admin = connectTestRedis();
    user = uniqueNamespace('acl-user');
    namespace = uniqueNamespace('acl');
    await admin.call('ACL', 'SETUSER', user, ...documentedAclRule(user, password, namespace));
    const { port, hostname } = new URL(testRedisUrl());
    logger = new RecordingLogger();
    redstream = new Redstream({ redis: `redis://${user}:${password}@${hostname}:${port}`, namespace, logger });
  });

  afterEach(async () => {
    await redstream.close();
    await admin.call('ACL', 'DELUSER', user);
    admin.disconnect();
  });

  it('produces, consumes, delays and trims under the documented ACL user', async () => {
    const producer = redstream.producer({ commandTimeoutMs: 2_000 });
    const handled: unknown[] = [];
    const options = { blockMs: 300, lockTtlMs: 1_000, lockRefreshMs: 300, standbyPollMs: 100 };
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      ...options,
      handler: (messages) => void handled.push(...messages.map((message) => message.payload.id)),
    });
    const standby = redstream.consumer({ stream: 'products', name: 'indexer', ...options, handler: () => undefined });
    const delayer = redstream.delayer({ stream: 'products', delay: 50, ...options });
    const trimmer = redstream.trimmer({ stream: 'products', interval: 100 });
    consumer.start();
    await waitFor(() => consumer.isActive);
    standby.start();
    delayer.start();

    await producer.queue('products', [{ id: 1 }, { id: 2 }]);
    await producer.delay('products', { id: 3 });
    await producer.bulk('products', [{ id: 4 }], () => undefined);
    const delayIds = await producer.delay('products', { id: 5 });
    await producer.queue('products', { id: 5 }, { delayMessageIds: delayIds });
    // 3 only through the Delayer; 4 twice (immediately, then again after the delay).
    await waitFor(() => handled.length === 6, 10_000);
    expect([...handled].sort()).toEqual([1, 2, 3, 4, 4, 5]);

    // A graceful hand-over to the standby (release script, wake-up list).
    await consumer.stop();
    await waitFor(() => standby.isActive, 5_000);
    const lastId = (await producer.queue('products', { id: 6 }))[0];
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === lastId, 5_000);

    await waitFor(
      async () => (await trimmer.trimOnce()).trimmed > 0 || (await redstream.streamLength('products')) === 0,
    );
    expect(await redstream.streamLength('products')).toBe(0);
    expect(await redstream.registeredConsumers('products')).toEqual(['indexer']);
    await redstream.forgetConsumer('products', 'gone');
    await Promise.all([standby.stop(), delayer.stop(), trimmer.stop()]);

    expect(await aclDenials(admin, user)).toEqual([]);
    expect(logger.matching('error', /NOPERM/)).toEqual([]);
  });

  it('balances shard consumers (heartbeat, leave) under the documented ACL user', async () => {
    const shards = redstreamShards('orders', 2);
    const consumers = shards.consumers(redstream, { name: 'sync', handler: () => undefined, standbyPollMs: 100 });
    consumers.forEach((consumer) => consumer.start());
    await waitFor(() => consumers.every((consumer) => consumer.isActive));
    const key = `${namespace}:redstream:shard-group:orders:sync:instances`;
    await waitFor(async () => (await admin.zcard(key)) === 1);
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    expect(await admin.zcard(key)).toBe(0);

    expect(await aclDenials(admin, user)).toEqual([]);
    expect(logger.matching('warn', /heartbeat failed/)).toEqual([]);
  });

  it('runs group consumers, dead letters and group trimming under the documented ACL user', async () => {
    const producer = redstream.producer({ commandTimeoutMs: 2_000 });
    const handled: number[] = [];
    const member = redstream.groupConsumer<{ id: number }>({
      stream: 'orders',
      group: 'billing',
      blockMs: 300,
      maxDeliveries: 2,
      claimIdleMs: 1_000,
      claimIntervalMs: 200,
      backoffInitialMs: 20,
      backoffMaxMs: 100,
      forgetIdleMs: 1_000,
      handler: (messages) => {
        if (messages.some((message) => message.payload.id === 13)) throw new Error('cannot bill 13');
        handled.push(...messages.map((message) => message.payload.id));
      },
    });
    member.start();
    await producer.queue('orders', [{ id: 11 }, { id: 12 }, { id: 13 }, { id: 14 }]);
    await waitFor(async () => (await redstream.deadLetters('orders')).deadLetters.length === 1, 10_000);
    await waitFor(() => handled.length === 3);
    expect([...handled].sort()).toEqual([11, 12, 14]);
    expect((await redstream.groupInfo('orders', 'billing'))?.pending).toBe(0);
    await redstream.replayDeadLetters('orders');
    await waitFor(async () => (await redstream.deadLetters('orders')).deadLetters.length === 1, 10_000);
    await redstream.dropDeadLetters('orders');
    const trimmer = redstream.trimmer({ stream: 'orders' });
    expect((await trimmer.trimOnce()).trimmed).toBeGreaterThan(0);
    await Promise.all([member.stop(), trimmer.stop()]);

    expect(await aclDenials(admin, user)).toEqual([]);
    expect(logger.matching('error', /NOPERM/)).toEqual([]);
  });

  it('is refused every key outside its namespace', async () => {
    const outsider = new Redstream({
      redis: redstream.connections.connection,
      namespace: uniqueNamespace('other'),
      logger: new RecordingLogger(),
    });
    try {
      const error = await outsider
        .producer({ commandTimeoutMs: 2_000 })
        .queue('products', { id: 1 })
        .then(
          () => undefined,
          (reason: Error) => reason,
        );
      expect(error).toBeInstanceOf(RedstreamConnectionError);
      expect(error?.message).toMatch(/NOPERM/);
    } finally {
      await outsider.close();
    }
    expect((await aclDenials(admin, user)).some((denial) => denial.startsWith('key '))).toBe(true);
  });
});
