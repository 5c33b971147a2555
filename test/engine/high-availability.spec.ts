import Redis from 'ioredis';
import { Consumer, ConsumerOptions, Redstream, silentLogger } from '../../lib/engine';
import { newestClientId, waitForBlockedClient } from '../support/blocked-clients';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { spawnWorkerChild, WorkerChild } from '../support/worker-child';

describe('high availability of one (stream, name)', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const consumers: Consumer[] = [];
  const children: WorkerChild[] = [];
  const consumer = (options: Partial<ConsumerOptions<Record<string, unknown>>>): Consumer => {
    const created = redstream.consumer({ stream: 'products', name: 'indexer', handler: () => undefined, ...options });
    consumers.push(created);
    return created;
  };

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
    await Promise.all(consumers.splice(0).map((created) => created.stop()));
    await redstream.close();
    await admin.quit();
  });

  it('keeps exactly one of two instances active; only it handles messages', async () => {
    const handledBy: Record<string, number> = { first: 0, second: 0 };
    const first = consumer({ handler: (messages) => void (handledBy.first += messages.length) });
    const second = consumer({ handler: (messages) => void (handledBy.second += messages.length) });
    const connectedBefore = await newestClientId(admin);
    first.start();
    second.start();
    await waitFor(() => first.isActive || second.isActive);
    // Both have asked for the lock once the loser waits on the notify list.
    await waitForBlockedClient(admin, 'brpop', { newerThan: connectedBefore });
    expect([first.isActive, second.isActive].filter(Boolean)).toHaveLength(1);
    await redstream.producer().queue('products', [{ id: 1 }, { id: 2 }, { id: 3 }]);
    await waitFor(() => handledBy.first + handledBy.second === 3);
    const [active, idle] = first.isActive ? ['first', 'second'] : ['second', 'first'];
    expect(handledBy[active]).toBe(3);
    expect(handledBy[idle]).toBe(0);
  });

  it('hands over at once on a graceful stop (notify list), long before the lock ttl', async () => {
    const seen: string[] = [];
    const options = {
      lockTtlMs: 5_000,
      lockRefreshMs: 1_000,
      // Polling alone would take 10 s: only the wake-up can make the hand-over fast.
      standbyPollMs: 10_000,
      handler: (messages: { id: string }[]) => void seen.push(...messages.map((message) => message.id)),
    };
    const active = consumer(options);
    active.start();
    await waitFor(() => active.isActive);
    const standby = consumer(options);
    const connectedBefore = await newestClientId(admin);
    standby.start();
    await waitForBlockedClient(admin, 'brpop', { newerThan: connectedBefore });
    const activated = new Promise<number>((resolve) => standby.once('active', () => resolve(Date.now())));
    const stoppedAt = Date.now();
    await active.stop();
    const takeoverMs = (await activated) - stoppedAt;
    // "At once" (README): a few round trips, with room for a loaded machine; still far below
    // the ttl and the 10 s poll, the only other ways to take over.
    expect(takeoverMs).toBeLessThan(1_000);
    const ids = await redstream.producer().queue('products', [{ id: 1 }, { id: 2 }]);
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(ids);
  });

  it('takes over within ttl + poll after kill -9 of the active process mid-batch, losing nothing', async () => {
    const lockTtlMs = 1_000;
    const lockRefreshMs = 300;
    const standbyPollMs = 200;
    const batchSize = 10;
    const handledList = `${namespace}:handled-by-child`;
    const ids = await redstream.producer().queue(
      'products',
      Array.from({ length: 100 }, (_, index) => ({ id: index })),
    );
    const child = await spawnWorkerChild({
      redisUrl: testRedisUrl(),
      namespace,
      role: 'consumer',
      stream: 'products',
      name: 'indexer',
      batchSize,
      lockTtlMs,
      lockRefreshMs,
      standbyPollMs,
      handledList,
      handlerMs: 150,
    });
    children.push(child);
    await child.waitForEvent((event) => event.type === 'active');

    const seenByStandby: string[][] = [];
    const standby = consumer({
      batchSize,
      lockTtlMs,
      lockRefreshMs,
      standbyPollMs,
      handler: (messages) => void seenByStandby.push(messages.map((message) => message.id)),
    });
    const activated = new Promise<{ at: number; after: string }>((resolve) =>
      standby.once('active', (offset) => resolve({ at: Date.now(), after: offset })),
    );
    standby.start();

    // Kill it while it handles its fourth batch: handled (recorded) but not committed.
    await child.waitForEvent((event) => event.type === 'committed' && event.offset === ids[29]);
    await child.waitForEvent((event) => event.type === 'handling' && event.ids?.[0] === ids[30]);
    expect(seenByStandby).toEqual([]);
    const killedAt = Date.now();
    await child.kill('SIGKILL');

    const takeover = await activated;
    const takeoverMs = takeover.at - killedAt;
    // The lock expires ttl after its last refresh (at most refreshMs before the kill), and
    // the standby notices within one poll (README: within lockTtlMs plus standbyPollMs, here
    // with room for a loaded machine); it must not take over before the expiry.
    expect(takeoverMs).toBeGreaterThanOrEqual(lockTtlMs - lockRefreshMs - 100);
    expect(takeoverMs).toBeLessThan(lockTtlMs + standbyPollMs + 1_000);

    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === ids[99]);
    const handledByChild = await admin.lrange(handledList, 0, -1);
    const standbyIds = seenByStandby.flat();
    // The standby starts after the child's last commit: ids[29], unless a slow test process
    // killed the child a batch or more later than it saw the fourth batch start.
    const resumeAt = ids.indexOf(takeover.after) + 1;
    expect(resumeAt).toBeGreaterThanOrEqual(30);
    expect(standbyIds).toEqual(ids.slice(resumeAt));
    // The child handled a prefix: up to its last commit plus, killed mid-batch as it almost
    // always is, that batch, which the standby replays (at most one batch, as README promises).
    expect([resumeAt, resumeAt + batchSize]).toContain(handledByChild.length);
    expect(handledByChild).toEqual(ids.slice(0, handledByChild.length));
    expect(new Set([...handledByChild, ...standbyIds]).size).toBe(100);
  });
});
