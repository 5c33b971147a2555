import Redis from 'ioredis';
import { Consumer, ConsumerOptions, Redstream, silentLogger } from '../../lib/engine';
import { compareStreamIds } from '../../lib/engine/stream-id';
import { connectTestRedis, sleep, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { spawnWorkerChild, WorkerChild } from '../support/worker-child';

/**
 * An owner that lost its lock while it worked (a GC pause, SIGSTOP, a partition) must not
 * commit: its batch may be handled twice, but the newer owner's offset never moves back.
 */
describe('stale-owner fencing', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const consumers: Consumer[] = [];
  const children: WorkerChild[] = [];
  const lockKey = (): string => `${namespace}:redstream:lock:consumer:products:indexer`;
  const offsetKey = (): string => `${namespace}:redstream:offset:products:indexer`;
  const consumer = (options: Partial<ConsumerOptions<Record<string, unknown>>>): Consumer => {
    const created = redstream.consumer({ stream: 'products', name: 'indexer', handler: () => undefined, ...options });
    consumers.push(created);
    return created;
  };
  /** Samples the committed offset until `until` settles. */
  const watchOffset = async (until: Promise<unknown>): Promise<string[]> => {
    const samples: string[] = [];
    let done = false;
    const settled = until.finally(() => (done = true));
    while (!done) {
      const offset = await admin.get(offsetKey());
      if (offset && offset !== samples[samples.length - 1]) samples.push(offset);
      await sleep(5); // the sampling interval: a sample loop, not a wait for a state
    }
    await settled;
    return samples;
  };
  const expectMonotonic = (offsets: string[]): void => {
    for (let i = 1; i < offsets.length; i++) expect(compareStreamIds(offsets[i - 1], offsets[i])).toBe(-1);
  };

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
  });
  afterEach(async () => {
    for (const child of children) child.process.kill('SIGCONT');
    await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
    await Promise.all(consumers.splice(0).map((created) => created.stop()));
    await redstream.close();
    await admin.quit();
  });

  it('does not commit after its lock was taken over while the handler ran, and stands by', async () => {
    const ids = await redstream.producer().queue(
      'products',
      [1, 2, 3, 4, 5, 6].map((id) => ({ id })),
    );
    const batches: string[][] = [];
    const commits: string[] = [];
    const standbyReasons: string[] = [];
    const worker = consumer({
      batchSize: 3,
      lockTtlMs: 1_000,
      lockRefreshMs: 300,
      standbyPollMs: 100,
      handler: async (messages) => {
        batches.push(messages.map((message) => message.id));
        if (batches.length === 1) {
          // Meanwhile a newer owner took the lock and committed further.
          await admin.set(lockKey(), 'newer-owner', 'PX', 700);
          await admin.set(offsetKey(), ids[4]);
        }
      },
    });
    worker.on('committed', (offset) => commits.push(offset));
    worker.on('standby', (reason) => standbyReasons.push(reason));
    worker.start();

    await waitFor(() => standbyReasons.length === 1);
    expect(standbyReasons[0]).toMatch(/lost its lock/);
    expect(await admin.get(offsetKey())).toBe(ids[4]);
    expect(await admin.get(lockKey())).toBe('newer-owner');
    // Once the newer owner's lock expires it takes over again, after the newer offset.
    await waitFor(() => worker.isActive && commits.length === 1, 5_000);
    expect(batches).toEqual([ids.slice(0, 3), [ids[5]]]);
    expect(commits).toEqual([ids[5]]);
  });

  it('does not overwrite the offset of the instance that took over during a long handler', async () => {
    const ids = await redstream.producer().queue(
      'products',
      [1, 2, 3, 4].map((id) => ({ id })),
    );
    const timing = { batchSize: 2, lockTtlMs: 600, lockRefreshMs: 200, standbyPollMs: 50 };
    const release = { resolve: (): void => undefined };
    const staleCommits: string[] = [];
    let staleCalls = 0;
    const stale = consumer({
      ...timing,
      handler: () => {
        staleCalls++;
        return new Promise<void>((resolve) => (release.resolve = resolve));
      },
    });
    stale.on('committed', (offset) => staleCommits.push(offset));
    stale.start();
    await waitFor(() => staleCalls === 1);

    const fresh: string[] = [];
    const successor = consumer({
      ...timing,
      handler: (messages) => void fresh.push(...messages.map((message) => message.id)),
    });
    successor.start();
    // As after a pause past the ttl (GC, SIGSTOP, partition): the key has expired.
    await admin.del(lockKey());
    await waitFor(() => successor.isActive, 5_000);
    const staleStandby = new Promise<string>((resolve) => stale.once('standby', resolve));
    const samples = await watchOffset(
      waitFor(async () => (await admin.get(offsetKey())) === ids[3]).then(async () => {
        release.resolve(); // the paused handler finishes now and tries to commit
        expect(await staleStandby).toMatch(/lost its lock/);
        // An absence: the offset must not move back during a window after the refused commit.
        await sleep(300);
      }),
    );
    expectMonotonic(samples);
    expect(samples[samples.length - 1]).toBe(ids[3]);
    expect(fresh).toEqual(ids);
    expect(staleCommits).toEqual([]);
    expect(stale.isActive).toBe(false);
    expect(successor.isActive).toBe(true);
    expect(await admin.get(offsetKey())).toBe(ids[3]);
  });

  it('fences a process frozen by SIGSTOP past the ttl: after SIGCONT it neither commits nor stays active', async () => {
    const lockTtlMs = 800;
    const ids = await redstream.producer().queue(
      'products',
      Array.from({ length: 20 }, (_, index) => ({ id: index })),
    );
    const child = await spawnWorkerChild({
      redisUrl: testRedisUrl(),
      namespace,
      role: 'consumer',
      stream: 'products',
      name: 'indexer',
      batchSize: 5,
      lockTtlMs,
      lockRefreshMs: 250,
      standbyPollMs: 100,
      handlerMs: 200,
    });
    children.push(child);
    await child.waitForEvent((event) => event.type === 'committed' && event.offset === ids[4]);
    await child.waitForEvent((event) => event.type === 'handling' && event.ids?.[0] === ids[5]);
    child.process.kill('SIGSTOP');

    const seen: string[] = [];
    const successor = consumer({
      batchSize: 5,
      lockTtlMs,
      lockRefreshMs: 250,
      standbyPollMs: 100,
      handler: (messages) => void seen.push(...messages.map((message) => message.id)),
    });
    const resumedAfter = new Promise<string>((resolve) => successor.once('active', resolve));
    successor.start();
    await waitFor(async () => (await admin.get(offsetKey())) === ids[19], 5_000);
    // After the frozen owner's last commit: ids[4], unless a slow test process stopped the
    // child a batch or more later than it saw the second batch start.
    const resumeAt = ids.indexOf(await resumedAfter) + 1;
    expect(resumeAt).toBeGreaterThanOrEqual(5);
    expect(seen).toEqual(ids.slice(resumeAt));

    const eventsBefore = child.events.length;
    child.process.kill('SIGCONT');
    const samples = await watchOffset(
      child
        .waitForEvent((event) => event.type === 'standby', 5_000)
        .then(async (standby) => {
          expect(standby.reason).toMatch(/lost its lock/);
          // An absence: the thawed process must not commit during a window after its standby.
          await sleep(300);
        }),
    );
    expect(samples).toEqual([ids[19]]);
    const after = child.events.slice(eventsBefore);
    expect(after.filter((event) => event.type === 'committed')).toEqual([]);
    expect(after.filter((event) => event.type === 'active')).toEqual([]);
    expect(await admin.get(offsetKey())).toBe(ids[19]);
    expect(successor.isActive).toBe(true);

    // The successor keeps consuming; the thawed process stays a standby.
    const [next] = await redstream.producer().queue('products', { id: 20 });
    await waitFor(() => seen.includes(next));
    expect(child.events.slice(eventsBefore).some((event) => event.type === 'handling')).toBe(false);
  });
});
