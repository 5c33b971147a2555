import Redis from 'ioredis';
import {
  Consumer,
  Delayer,
  Producer,
  Redstream,
  RedstreamConfigError,
  redstreamShards,
  silentLogger,
} from '../../lib/engine';
import { recordingShardHandler } from '../support/shard-handler';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

// The Delayers of a sharded stream in their shard group (`<base>:delayer`), run by two engine
// instances (two Redstreams on one namespace, as two processes would): each takes its half,
// every delay message of every shard is re-queued exactly once, through a join and a graceful
// leave too, and the shards' consumers (another group) balance beside them undisturbed.
// Short lock and balancing timings keep the hand-overs to well under a second.
describe('Delayer shard balancing (two instances)', () => {
  const SHARD_COUNT = 4;
  const TIMING = {
    lockTtlMs: 1_000,
    lockRefreshMs: 300,
    standbyPollMs: 100,
    blockMs: 200,
    shardBalanceDelayMs: 500,
  };
  /** Longer than a read's round trip: due messages and messages still waiting mix in every batch. */
  const DELAY_MS = 300;
  const shards = redstreamShards('products', SHARD_COUNT);

  interface Instance {
    label: string;
    redstream: Redstream;
    delayers: Delayer[];
    consumers: Consumer[];
    /** Delayer shards this instance is active for, in shard order. */
    activeShards(): number[];
    /** Delayer hand-overs (standby after holding the lock) so far. */
    standbys(): number;
  }

  let admin: Redis;
  let namespace: string;
  let producer: Producer;
  const engines: Redstream[] = [];
  let written: Map<string, number[]>;
  let overlaps: string[];
  let monitor: NodeJS.Timeout | undefined;

  beforeEach(() => {
    admin = connectTestRedis();
    namespace = uniqueNamespace('delayer-shards');
    const producerEngine = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    engines.push(producerEngine);
    producer = producerEngine.producer();
    written = new Map(shards.streams.map((stream) => [stream, []]));
    overlaps = [];
  });

  afterEach(async () => {
    if (monitor) clearInterval(monitor);
    monitor = undefined;
    await Promise.all(engines.splice(0).map((engine) => engine.close({ drainTimeoutMs: 5_000 })));
    admin.disconnect();
  });

  const prefix = (): string => `${namespace}:check`;

  /** An engine instance running a Delayer per shard (and, if asked, a consumer per shard). */
  function startInstance(
    label: string,
    withConsumers = false,
    delayerOptions: { delay?: number; lockTtlMs?: number; lockRefreshMs?: number } = {},
  ): Instance {
    const redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    engines.push(redstream);
    const delayers = shards.delayers(redstream, { delay: DELAY_MS, ...TIMING, ...delayerOptions });
    const consumers = withConsumers
      ? shards.streams.map((stream) =>
          redstream.consumer({
            stream,
            name: 'indexer',
            shardGroup: shards.consumerGroup('indexer'),
            handler: recordingShardHandler(redstream.client, prefix(), stream),
            ...TIMING,
          }),
        )
      : [];
    let standbys = 0;
    for (const delayer of delayers) delayer.on('standby', () => standbys++);
    [...delayers, ...consumers].forEach((worker) => worker.start());
    return {
      label,
      redstream,
      delayers,
      consumers,
      activeShards: () => delayers.flatMap((delayer, shard) => (delayer.isActive ? [shard] : [])),
      standbys: () => standbys,
    };
  }

  /**
   * Samples every few ms that no delayer shard is active in two instances at once, recording
   * each sample that finds one in `overlaps`.
   */
  function watchForOverlaps(instances: Instance[]): void {
    monitor = setInterval(() => {
      for (let shard = 0; shard < SHARD_COUNT; shard++) {
        const holders = instances.filter((instance) => instance.delayers[shard].isActive);
        if (holders.length > 1) overlaps.push(`shard ${shard}: ${holders.map((holder) => holder.label).join(', ')}`);
      }
    }, 5);
  }

  /** Waits until each instance is active for exactly `share` shards and each shard has one active delayer. */
  async function waitBalanced(instances: Instance[], share: number): Promise<void> {
    const describe = (): string =>
      instances.map((instance) => `${instance.label}=[${instance.activeShards().join(',')}]`).join(' ');
    await waitFor(
      () =>
        instances.every((instance) => instance.activeShards().length === share) &&
        shards.streams.every((_, shard) => instances.filter((i) => i.delayers[shard].isActive).length === 1),
      15_000,
      20,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; active: ${describe()}`);
    });
  }

  /** Writes `count` delay messages to every shard's delay stream, numbered on from what was written. */
  async function writeDelayMessages(count: number): Promise<void> {
    await Promise.all(
      shards.streams.map(async (stream) => {
        const numbers = written.get(stream)!;
        const batch = Array.from({ length: count }, (_, i) => numbers.length + i + 1);
        numbers.push(...batch);
        await producer.delay(
          stream,
          batch.map((n) => ({ stream, n })),
        );
      }),
    );
  }

  /** Writes a delay message to a shard in turn every few ms until stopped. */
  function keepWriting(): { stop(): Promise<void> } {
    let running = true;
    const loop = (async () => {
      for (let turn = 0; running; turn++) {
        const stream = shards.streams[turn % SHARD_COUNT];
        const numbers = written.get(stream)!;
        const n = numbers.length + 1;
        numbers.push(n);
        await producer.delay(stream, { stream, n });
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  /** The numbers re-queued into a shard's stream, in stream order. */
  async function requeued(stream: string): Promise<number[]> {
    const entries = await admin.xrange(`${namespace}:redstream:stream:${stream}`, '-', '+');
    return entries.map(([, fields]) => {
      const payload = JSON.parse(fields[fields.indexOf('payload') + 1]) as { stream: string; n: number };
      expect(payload.stream).toBe(stream);
      return payload.n;
    });
  }

  /**
   * Every delay message written to every shard was re-queued into its own stream exactly once,
   * in order, and nothing is left in the delay streams to be re-queued again later.
   */
  async function expectEveryDelayMessageRequeuedOnce(): Promise<void> {
    for (const stream of shards.streams) {
      const expected = written.get(stream)!;
      await waitFor(
        async () => (await admin.xlen(`${namespace}:redstream:stream:${stream}`)) >= expected.length,
        15_000,
      ).catch(async (error: Error) => {
        throw new Error(
          `${stream}: ${error.message}; re-queued ${(await requeued(stream)).length} of ${expected.length}`,
        );
      });
      expect(await admin.xlen(`${namespace}:redstream:stream:${stream}.delay`)).toBe(0);
      expect(await requeued(stream)).toEqual(expected);
    }
  }

  it('gives each of two instances 2 of the 4 delayer shards, and each shard re-queues every message once', async () => {
    const a = startInstance('a');
    await waitBalanced([a], 4);
    const b = startInstance('b');
    await waitBalanced([a, b], 2);
    watchForOverlaps([a, b]);
    const membershipOfA = a.redstream.shardGroups.get(shards.delayerGroup() as string)!;
    const membershipOfB = b.redstream.shardGroups.get(shards.delayerGroup() as string)!;
    expect([membershipOfA.liveInstances, membershipOfB.liveInstances]).toEqual([2, 2]);
    expect([membershipOfA.ownedCount, membershipOfB.ownedCount]).toEqual([2, 2]);
    // The two halves are disjoint and cover the 4 shards.
    expect([...a.activeShards(), ...b.activeShards()].sort()).toEqual([0, 1, 2, 3]);
    const handOversBefore = a.standbys() + b.standbys();

    for (let round = 0; round < 3; round++) await writeDelayMessages(25);
    await expectEveryDelayMessageRequeuedOnce();

    // Balanced, nothing moved while the messages were re-queued, and never two owners.
    expect(a.standbys() + b.standbys()).toBe(handOversBefore);
    expect(a.activeShards()).toHaveLength(2);
    expect(b.activeShards()).toHaveLength(2);
    expect(overlaps).toEqual([]);
  }, 60_000);

  it('hands the joiner 2 shards and the survivor all 4 after a graceful leave, with no re-queue lost or repeated', async () => {
    const a = startInstance('a');
    await waitBalanced([a], 4);
    const writing = keepWriting();
    try {
      // A join while delay messages keep coming: two of a's shards move to b mid-stream.
      const b = startInstance('b');
      await waitBalanced([a, b], 2);
      expect(a.standbys()).toBe(2);
      watchForOverlaps([a, b]);
      await writeDelayMessages(10);

      // A graceful leave while they keep coming: b takes a's two shards.
      await a.redstream.close();
      await waitBalanced([b], 4);
      expect(b.standbys()).toBe(0);
    } finally {
      await writing.stop();
    }
    // Written after the takeover: the survivor re-queues them on every shard.
    await writeDelayMessages(10);
    await expectEveryDelayMessageRequeuedOnce();
    expect(overlaps).toEqual([]);
  }, 60_000);

  it('balances the delayers and the consumers of the same shards independently, each group 2 and 2', async () => {
    const a = startInstance('a', true);
    const b = startInstance('b', true);
    await waitBalanced([a, b], 2);
    const consumersActive = (instance: Instance): number =>
      instance.consumers.filter((consumer) => consumer.isActive).length;
    await waitFor(() => consumersActive(a) === 2 && consumersActive(b) === 2, 15_000);
    const delayerGroup = shards.delayerGroup() as string;
    const consumerGroup = shards.consumerGroup('indexer') as string;
    expect(a.redstream.shardGroups.get(delayerGroup)).not.toBe(a.redstream.shardGroups.get(consumerGroup));
    watchForOverlaps([a, b]);

    await writeDelayMessages(20);
    await expectEveryDelayMessageRequeuedOnce();
    // The consumers handled each re-queued message once, from both instances' shards.
    for (const stream of shards.streams) {
      const ids = (await admin.xrange(`${namespace}:redstream:stream:${stream}`, '-', '+')).map(([id]) => id);
      const handledKey = `${prefix()}:handled:${stream}`;
      await waitFor(async () => (await admin.llen(handledKey)) >= ids.length, 15_000);
      expect(await admin.lrange(handledKey, 0, -1)).toEqual(ids);
    }
    expect(await admin.lrange(`${prefix()}:overlaps`, 0, -1)).toEqual([]);
    expect([a.activeShards().length, b.activeShards().length]).toEqual([2, 2]);
    expect([consumersActive(a), consumersActive(b)]).toEqual([2, 2]);
    expect(overlaps).toEqual([]);
  }, 60_000);

  // A Delayer whose next message is not due sleeps until it is, in slices of at most lockTtlMs
  // (a long delay, minutes, is the usual case). Handing over must not wait for the slice to end,
  // as a consumer's idle read does not: the join would take up to lockTtlMs longer.
  it('hands a shard over promptly while its delayer waits for a message to become due', async () => {
    const waiting = { delay: 8_000, lockTtlMs: 20_000, lockRefreshMs: 5_000 };
    await writeDelayMessages(1);
    const a = startInstance('a', false, waiting);
    await waitBalanced([a], 4);
    // Each of a's delayers reads its message (not due for 8 s) as it becomes active and
    // sleeps; b is counted and shardBalanceDelayMs passes before any hand-over is asked for.
    const b = startInstance('b', false, waiting);
    const membershipOfA = a.redstream.shardGroups.get(shards.delayerGroup() as string)!;
    await waitFor(() => membershipOfA.liveInstances === 2, 5_000);
    const counted = Date.now();
    await waitBalanced([a, b], 2);
    // shardBalanceDelayMs, then the hand-over and b's take, with a margin for a loaded machine;
    // not the rest of a 20 s sleep.
    expect(Date.now() - counted).toBeLessThan(TIMING.shardBalanceDelayMs + 2_500);
    expect(a.standbys()).toBe(2);
    // Nothing was due yet; once due, each message is re-queued once, by b for the shards it took.
    expect(await Promise.all(shards.streams.map((stream) => b.redstream.streamLength(stream)))).toEqual([0, 0, 0, 0]);
    await expectEveryDelayMessageRequeuedOnce();
  }, 60_000);

  // A group's share counts every worker in it. With consumers named `delayer` (whose default
  // group was the delayers' `products:delayer`) and the delayers on instance a, and only the
  // delayers on b, a's share was 4 of 8 and b's 2 of 4: a took the 4 consumers, b 2 delayer
  // shards, and the other 2 delay streams were never re-queued. A group now balances one kind.
  it('refuses consumers and delayers in one shard group, which left delayer shards without an owner', () => {
    const a = startInstance('a');
    expect(() => shards.consumers(a.redstream, { name: 'delayer', handler: () => undefined })).toThrow(
      RedstreamConfigError,
    );
    expect(() =>
      a.redstream.consumer({
        stream: shards.streams[0],
        name: 'indexer',
        shardGroup: shards.delayerGroup() as string,
        handler: () => undefined,
      }),
    ).toThrow(/Shard group products:delayer balances delayers: a consumer cannot join it/);

    // The other way round, and a consumer group of its own is fine beside the delayers.
    const b = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    engines.push(b);
    shards.consumers(b, { name: 'indexer', handler: () => undefined, shardGroup: 'products:shared' });
    expect(() => shards.delayers(b, { delay: DELAY_MS, shardGroup: 'products:shared' })).toThrow(
      /balances consumers: a delayer cannot join it/,
    );
    expect(
      shards.consumers(b, { name: 'delayer', handler: () => undefined, shardGroup: 'products:mail' }),
    ).toHaveLength(SHARD_COUNT);
  });
});
