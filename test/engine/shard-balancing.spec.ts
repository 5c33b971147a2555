import Redis from 'ioredis';
import { Consumer, Producer, Redstream, redstreamShards, silentLogger } from '../../lib/engine';
import { recordingShardHandler } from '../support/shard-handler';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { spawnWorkerChild, WorkerChild } from '../support/worker-child';

// Balanced shards with the default lock settings: 8 shards of one stream spread over the live
// instances (engines in this process and real child processes), each owning at most
// ceil(8 / instances); joins, kill -9 and a flapping instance. Ownership is read from the
// workers (isActive) here and from the events a child prints.
describe('shard balancing (default settings)', () => {
  const SHARD_COUNT = 8;
  const NAME = 'indexer';

  interface Instance {
    label: string;
    owned(): number;
    /** Hand-overs (standby after holding the lock) so far. */
    standbys(): number;
  }

  let admin: Redis;
  let namespace: string;
  const engines: Redstream[] = [];
  const children: WorkerChild[] = [];
  let producing: { stop(): Promise<void> } | undefined;

  beforeEach(() => {
    admin = connectTestRedis();
    namespace = uniqueNamespace('shards');
  });

  afterEach(async () => {
    await producing?.stop();
    producing = undefined;
    await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
    await Promise.all(engines.splice(0).map((engine) => engine.close({ drainTimeoutMs: 5_000 })));
    admin.disconnect();
  });

  const shards = redstreamShards('products', SHARD_COUNT);
  const prefix = (): string => `${namespace}:check`;

  /** An instance in this process: its own Redstream with a consumer per shard. */
  function startEngineInstance(label: string): Instance & { redstream: Redstream; consumers: Consumer[] } {
    const redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    engines.push(redstream);
    const consumers = shards.streams.map((stream) =>
      redstream.consumer({
        stream,
        name: NAME,
        shardGroup: shards.consumerGroup(NAME),
        handler: recordingShardHandler(redstream.client, prefix(), stream, 5),
      }),
    );
    let standbys = 0;
    for (const consumer of consumers) {
      consumer.on('standby', () => standbys++);
      consumer.start();
    }
    return {
      label,
      redstream,
      consumers,
      owned: () => consumers.filter((consumer) => consumer.isActive).length,
      standbys: () => standbys,
    };
  }

  /** An instance in a child process (kill -9 able), its ownership read from its events. */
  async function startChildInstance(label: string): Promise<Instance & { child: WorkerChild }> {
    const child = await spawnWorkerChild({
      redisUrl: testRedisUrl(),
      namespace,
      role: 'shards',
      stream: shards.base,
      shards: SHARD_COUNT,
      name: NAME,
      shardPrefix: prefix(),
      handlerMs: 5,
    });
    children.push(child);
    const owned = (): number => {
      const state = new Map<string, boolean>();
      for (const event of child.events) {
        if (!event.stream) continue;
        if (event.type === 'active') state.set(event.stream, true);
        if (event.type === 'standby') state.set(event.stream, false);
      }
      return [...state.values()].filter(Boolean).length;
    };
    const standbys = (): number => child.events.filter((event) => event.type === 'standby').length;
    return { label, child, owned, standbys };
  }

  /** Queues a message to a random shard every few ms until stopped. */
  function produce(producer: Producer): { stop(): Promise<void> } {
    let running = true;
    let id = 0;
    const loop = (async () => {
      while (running) {
        id++;
        await producer.queue(shards.streamOf(id), { id });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  /** Waits until every shard is owned and each instance owns at most ceil(8 / instances). */
  async function waitBalanced(instances: Instance[], timeoutMs: number): Promise<number> {
    const share = Math.ceil(SHARD_COUNT / instances.length);
    const started = Date.now();
    await waitFor(
      () => {
        const owned = instances.map((instance) => instance.owned());
        return owned.every((count) => count <= share) && owned.reduce((sum, count) => sum + count, 0) === SHARD_COUNT;
      },
      timeoutMs,
      50,
    ).catch((error: Error) => {
      const owned = instances.map((instance) => `${instance.label}=${instance.owned()}`).join(', ');
      throw new Error(`${error.message}; owned: ${owned}`);
    });
    return Date.now() - started;
  }

  /** Every entry of every shard was handled, in order, and no batch began under two owners at once. */
  async function expectEveryMessageHandledOnceInOrder(allowRedelivery: boolean): Promise<void> {
    for (const stream of shards.streams) {
      const key = `${namespace}:redstream:stream:${stream}`;
      const ids = (await admin.xrange(key, '-', '+')).map(([id]) => id);
      const handledKey = `${prefix()}:handled:${stream}`;
      await waitFor(async () => new Set(await admin.lrange(handledKey, 0, -1)).size === ids.length, 20_000, 50);
      const handled = await admin.lrange(handledKey, 0, -1);
      // A batch handled by an owner killed before its commit is handled again by the next one.
      expect([...new Set(handled)]).toEqual(ids);
      if (!allowRedelivery) expect(handled).toEqual(ids);
    }
    expect(await admin.lrange(`${prefix()}:overlaps`, 0, -1)).toEqual([]);
  }

  it('spreads 8 shards over 2 then 3 instances, over the survivors after a kill -9, and after a graceful leave', async () => {
    const producerEngine = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    engines.push(producerEngine);
    producing = produce(producerEngine.producer());

    const a = startEngineInstance('a');
    await waitBalanced([a], 10_000);
    expect(a.owned()).toBe(8);

    const b = await startChildInstance('b (child)');
    const joinedB = await waitBalanced([a, b], 20_000);
    expect(a.owned()).toBe(4);
    expect(b.owned()).toBe(4);

    const c = startEngineInstance('c');
    const joinedC = await waitBalanced([a, b, c], 20_000);
    // The newcomer took its share; nobody holds more than ceil(8 / 3).
    expect(c.owned()).toBeGreaterThanOrEqual(2);

    await b.child.kill('SIGKILL');
    const takenOver = await waitBalanced([a, c], 20_000);

    // A graceful leave: c's locks are released and a, whose share grew, takes them.
    await c.redstream.close();
    const left = await waitBalanced([a], 20_000);

    // A join: one heartbeat period to be counted, shardBalanceDelayMs over share, then at once.
    // A kill -9: the lock expires (lockTtlMs), then one standby poll (this Redis publishes no
    // expired-key events). 2.5 s of margin each for a loaded machine.
    expect(joinedB).toBeLessThan(1_000 + 5_000 + 2_500);
    expect(joinedC).toBeLessThan(1_000 + 5_000 + 2_500);
    expect(takenOver).toBeLessThan(5_000 + 1_000 + 2_500);
    expect(left).toBeLessThan(1_000 + 2_500);

    await producing.stop();
    producing = undefined;
    await expectEveryMessageHandledOnceInOrder(true);
    // Hand-overs: 4 from a to b, then one each from a and b to c: no more (c's stop is no hand-over).
    expect(a.standbys() + b.standbys()).toBeLessThanOrEqual(6);
    expect(c.standbys()).toBe(0);
    process.stdout.write(
      `shard balancing: b joined in ${joinedB} ms, c in ${joinedC} ms, b's shards taken over in ${takenOver} ms, ` +
        `c's after its graceful leave in ${left} ms\n`,
    );
  }, 120_000);

  it('a flapping instance (up, seen, kill -9, again) moves no shard', async () => {
    const producerEngine = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    engines.push(producerEngine);
    producing = produce(producerEngine.producer());
    const a = startEngineInstance('a');
    const b = startEngineInstance('b');
    await waitBalanced([a, b], 20_000);
    const membership = a.redstream.shardGroups.get(shards.consumerGroup(NAME) as string);
    expect(membership).toBeDefined();
    const before = a.standbys() + b.standbys();

    for (let cycle = 0; cycle < 3; cycle++) {
      const flapper = await startChildInstance(`flapper ${cycle}`);
      await waitFor(() => membership!.liveInstances === 3, 10_000, 20);
      await flapper.child.kill('SIGKILL');
      children.splice(children.indexOf(flapper.child), 1);
      await waitFor(() => membership!.liveInstances === 2, 10_000, 20);
      expect(flapper.owned()).toBe(0);
    }
    // Over their share while the flapper counted, a and b handed nothing over.
    expect(a.standbys() + b.standbys() - before).toBe(0);
    expect(a.owned()).toBe(4);
    expect(b.owned()).toBe(4);

    await producing.stop();
    producing = undefined;
    await expectEveryMessageHandledOnceInOrder(false);
  }, 120_000);

  it('still leaves a shard whose lock another owner (a Ruby consumer) holds, and takes it once released', async () => {
    const lockKey = `${namespace}:redstream:lock:consumer:products-3:${NAME}`;
    // The gem's lock: its owner's id in the key, a ttl, a wake-up list `<lock>.notify`.
    await admin.set(lockKey, 'ruby-owner', 'PX', 60_000);
    const a = startEngineInstance('a');
    await waitFor(() => a.owned() === 7, 10_000);
    // Several polls and heartbeats (the heartbeat's expiry moved 1.5 s on the Redis clock): the
    // foreign lock is never taken while it is held.
    const instancesKey = `${namespace}:redstream:shard-group:products:indexer:instances`;
    const readExpiry = async (): Promise<number | undefined> => {
      const [, score] = await admin.zrange(instancesKey, 0, 0, 'WITHSCORES');
      return score === undefined ? undefined : Number(score);
    };
    const firstExpiry = await waitFor(readExpiry);
    await waitFor(async () => ((await readExpiry()) ?? 0) > firstExpiry + 1_500, 10_000, 100);
    expect(a.consumers[3].isActive).toBe(false);
    expect(await admin.get(lockKey)).toBe('ruby-owner');

    // The gem's release: DEL, then a token on the wake-up list.
    await admin.del(lockKey);
    await admin.lpush(`${lockKey}.notify`, '1');
    await waitFor(() => a.consumers[3].isActive, 5_000);
    expect(a.owned()).toBe(8);
  }, 30_000);

  it('shardGroup: false keeps the gem behaviour: the first instance owns every shard', async () => {
    const first = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    const second = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    engines.push(first, second);
    const handler = (): void => undefined;
    const ofFirst = shards.consumers(first, { name: NAME, handler, shardGroup: false });
    ofFirst.forEach((consumer) => consumer.start());
    await waitFor(() => ofFirst.every((consumer) => consumer.isActive), 10_000);
    const ofSecond = shards.consumers(second, { name: NAME, handler, shardGroup: false });
    ofSecond.forEach((consumer) => consumer.start());
    // Longer than a join takes with balancing (heartbeat, then shardBalanceDelayMs).
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    expect(ofFirst.filter((consumer) => consumer.isActive)).toHaveLength(8);
    expect(ofSecond.filter((consumer) => consumer.isActive)).toHaveLength(0);
    expect(await admin.exists(`${namespace}:redstream:shard-group:products:indexer:instances`)).toBe(0);
  }, 30_000);
});
