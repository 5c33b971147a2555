import Redis from 'ioredis';
import { Redstream, RedstreamConfigError, RedstreamStatus, silentLogger } from '../../lib/engine';
import { testRedisUrl, waitFor } from '../support/test-redis';
import { RedisMonitor } from '../support/redis-monitor';
import { closeTestRedstream, openTestRedstream, writeAgedEntries } from '../support/test-redstream';

describe('Redstream.status', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const workers: { stop(): Promise<void> }[] = [];
  /** `count` entries on `key`, the first one `ageMs` old on Redis's clock. */
  const write = (key: string, count: number, ageMs?: number): Promise<string[]> =>
    writeAgedEntries(admin, key, count, ageMs);

  beforeEach(() => {
    ({ namespace, redstream, admin } = openTestRedstream());
  });
  afterEach(() => closeTestRedstream({ redstream, admin }, workers));

  it('is empty for a namespace without keys', async () => {
    expect(await redstream.status()).toEqual({ streams: [] });
  });

  it('reports length, delay backlog, dead letters, consumers and groups in the documented shape', async () => {
    const keys = redstream.keys;
    const ids = await write(keys.stream('products'), 10);
    await write(keys.delayStream('products'), 2, 30_000);
    await write(keys.deadLetterStream('products'), 3);
    // A registered consumer that committed, one with an offset only (forgotten), one registered only.
    await admin.sadd(keys.consumerRegistry('products'), 'indexer', 'fresh');
    await admin.set(keys.offset('products', 'indexer'), ids[3]);
    await admin.set(keys.offset('products', 'gone'), ids[9]);
    await admin.set(keys.lock('consumer:products:indexer'), 'owner-1', 'PX', 60_000);
    await admin.xgroup('CREATE', keys.stream('products'), 'search', '0');
    await admin.xreadgroup('GROUP', 'search', 'm1', 'COUNT', 3, 'STREAMS', keys.stream('products'), '>');
    await admin.xack(keys.stream('products'), 'search', ids[1]);

    const status: RedstreamStatus = await redstream.status();
    expect(status.streams).toHaveLength(1);
    const [products] = status.streams;
    expect(products).toEqual({
      stream: 'products',
      length: 10,
      delayBacklog: { entries: 2, oldestAgeMs: expect.any(Number) },
      deadLetters: 3,
      consumers: [
        { name: 'fresh', offset: null, lag: 10, lagMs: expect.any(Number), active: false },
        { name: 'gone', offset: ids[9], lag: 0, lagMs: 0, active: false },
        { name: 'indexer', offset: ids[3], lag: 6, lagMs: expect.any(Number), active: true, owner: 'owner-1' },
      ],
      groups: [
        {
          name: 'search',
          consumers: 1,
          pending: 2,
          lag: 7,
          lagMs: expect.any(Number),
          oldestPendingAgeMs: expect.any(Number),
          lastDeliveredId: ids[2],
        },
      ],
    });
    expect(products.delayBacklog.oldestAgeMs).toBeGreaterThanOrEqual(30_000);
    expect(products.delayBacklog.oldestAgeMs).toBeLessThan(50_000);
    expect(products.consumers[0].lagMs).toBeGreaterThanOrEqual(60_000);
    // The oldest entry after ids[3] was written just now, not a minute ago.
    expect(products.consumers[2].lagMs).toBeLessThan(30_000);
    expect(products.groups[0].oldestPendingAgeMs).toBeGreaterThanOrEqual(60_000);
    // Plain JSON: what `redstream status --json` prints.
    expect(JSON.parse(JSON.stringify(status))).toEqual(status);
  });

  it("reads each stream's groups once (one XINFO GROUPS), with the figures groupLag reports", async () => {
    const key = redstream.keys.stream('orders');
    const ids = await write(key, 20);
    await admin.xgroup('CREATE', key, 'search', '0');
    await admin.xreadgroup('GROUP', 'search', 'm1', 'COUNT', 4, 'STREAMS', key, '>');
    await admin.xgroup('CREATE', key, 'billing', '0');
    await admin.xreadgroup('GROUP', 'billing', 'm1', 'COUNT', 2, 'STREAMS', key, '>');
    // An entry deleted after both groups' positions: Redis no longer tells their lag, it is counted.
    await admin.xdel(key, ids[15]);
    // Made by hand with a name the key layout rejects: shown from XINFO GROUPS alone.
    await admin.xgroup('CREATE', key, 'by hand', '$');
    const monitor = await RedisMonitor.open(admin);
    try {
      const status = await redstream.status();
      await monitor.caughtUp(admin, `${namespace}:monitor-mark`);
      const seen = monitor.commands
        .map(({ args }) => args)
        .filter((args) => args.some((arg) => arg.startsWith(namespace)));

      const reads = seen.filter(([command, sub]) => command === 'xinfo' && sub.toUpperCase() === 'GROUPS');
      expect(reads).toEqual([['xinfo', 'GROUPS', key]]);
      const groups = status.streams[0].groups;
      expect(groups.map((group) => group.name)).toEqual(['billing', 'by hand', 'search']);
      for (const group of groups.filter((candidate) => candidate.name !== 'by hand')) {
        const lag = (await redstream.groupLag('orders', group.name))!;
        expect(group).toEqual({
          name: group.name,
          consumers: 1,
          pending: lag.pending,
          lag: lag.entries,
          lagMs: expect.any(Number),
          oldestPendingAgeMs: expect.any(Number),
          lastDeliveredId: lag.lastDeliveredId,
        });
        // Ages on Redis's clock, read a moment apart.
        expect(Math.abs(group.lagMs - lag.oldestAgeMs)).toBeLessThan(5_000);
        expect(Math.abs(group.oldestPendingAgeMs - lag.oldestPendingAgeMs)).toBeLessThan(5_000);
      }
      expect(groups.map(({ name, pending, lag }) => ({ name, pending, lag }))).toEqual([
        { name: 'billing', pending: 2, lag: 17 },
        { name: 'by hand', pending: 0, lag: 0 },
        { name: 'search', pending: 4, lag: 15 },
      ]);
    } finally {
      monitor.close();
    }
  });

  it('shows a running consumer as active with its lock owner, and inactive once stopped', async () => {
    const ids = await write(redstream.keys.stream('orders'), 3);
    const consumer = redstream.consumer({ stream: 'orders', name: 'mailer', handler: () => undefined });
    workers.push(consumer);
    consumer.start();
    await waitFor(async () => (await redstream.committedOffset('orders', 'mailer')) === ids[2]);

    const running = (await redstream.status()).streams[0];
    expect(running.consumers).toEqual([
      { name: 'mailer', offset: ids[2], lag: 0, lagMs: 0, active: true, owner: expect.stringMatching(/^[0-9a-f]+$/) },
    ]);
    await consumer.stop();
    expect((await redstream.status()).streams[0].consumers[0]).toEqual({
      name: 'mailer',
      offset: ids[2],
      lag: 0,
      lagMs: 0,
      active: false,
    });
  });

  it('finds streams by their delay, dead-letter, registry or offset keys alone, never listing .delay or .dead', async () => {
    const keys = redstream.keys;
    await write(keys.delayStream('delayed-only'), 1);
    await write(keys.deadLetterStream('dead-only'), 1);
    await admin.sadd(keys.consumerRegistry('registered-only'), 'a');
    await admin.set(keys.offset('offset-only', 'b'), '0-0');
    // The Delayer's offset is shown as the delay backlog, not as a stream `x.delay`.
    await admin.set(keys.offset('delayed-only.delay', 'delayer'), '0-0');

    const status = await redstream.status();
    expect(status.streams.map((stream) => stream.stream)).toEqual([
      'dead-only',
      'delayed-only',
      'offset-only',
      'registered-only',
    ]);
    const byName = Object.fromEntries(status.streams.map((stream) => [stream.stream, stream]));
    expect(byName['delayed-only']).toMatchObject({ length: 0, delayBacklog: { entries: 1 }, consumers: [] });
    expect(byName['dead-only']).toMatchObject({ length: 0, deadLetters: 1 });
    expect(byName['registered-only'].consumers.map((consumer) => consumer.name)).toEqual(['a']);
    expect(byName['offset-only'].consumers).toEqual([{ name: 'b', offset: '0-0', lag: 0, lagMs: 0, active: false }]);
  });

  it('never picks up keys of another namespace, nor of the default one', async () => {
    const other = new Redstream({ redis: testRedisUrl(), namespace: `${namespace}-other`, logger: silentLogger });
    // A namespace whose keys start like the default namespace's stream keys.
    const tricky = new Redstream({ redis: testRedisUrl(), namespace: `redstream:stream`, logger: silentLogger });
    const unnamespaced = new Redstream({ redis: testRedisUrl(), logger: silentLogger });
    try {
      await write(redstream.keys.stream('mine'), 1);
      await write(other.keys.stream(`theirs-${namespace}`), 1);
      await admin.set(other.keys.offset('mine', 'x'), '0-0');
      await write(tricky.keys.stream(`tricky-${namespace}`), 1);
      await admin.set(tricky.keys.offset(`tricky-${namespace}`, 'y'), '0-0');
      await admin.sadd(tricky.keys.consumerRegistry(`tricky-${namespace}`), 'y');
      await write(unnamespaced.keys.stream(`plain-${namespace}`), 1);

      expect((await redstream.status()).streams.map((stream) => stream.stream)).toEqual(['mine']);
      expect((await redstream.status()).streams[0].consumers).toEqual([]);
      const defaultStreams = (await unnamespaced.status()).streams.map((stream) => stream.stream);
      expect(defaultStreams).toContain(`plain-${namespace}`);
      expect(defaultStreams.filter((name) => name.includes(namespace))).toEqual([`plain-${namespace}`]);
    } finally {
      await admin.del(
        unnamespaced.keys.stream(`plain-${namespace}`),
        tricky.keys.stream(`tricky-${namespace}`),
        tricky.keys.offset(`tricky-${namespace}`, 'y'),
        tricky.keys.consumerRegistry(`tricky-${namespace}`),
      );
      await Promise.all([other.close(), tricky.close(), unnamespaced.close()]);
    }
  });

  it('reports only the requested streams, including ones that do not exist', async () => {
    await write(redstream.keys.stream('a'), 2);
    await write(redstream.keys.stream('b'), 1);
    await admin.set(redstream.keys.offset('b', 'c'), '0-0');
    const status = await redstream.status({ streams: ['b', 'missing'] });
    expect(status).toEqual({
      streams: [
        {
          stream: 'b',
          length: 1,
          delayBacklog: { entries: 0, oldestAgeMs: 0 },
          deadLetters: 0,
          consumers: [{ name: 'c', offset: '0-0', lag: 1, lagMs: expect.any(Number), active: false }],
          groups: [],
        },
        {
          stream: 'missing',
          length: 0,
          delayBacklog: { entries: 0, oldestAgeMs: 0 },
          deadLetters: 0,
          consumers: [],
          groups: [],
        },
      ],
    });
  });

  it('rejects invalid stream names and maxLagCount', async () => {
    await expect(redstream.status({ streams: ['a:b'] })).rejects.toThrow(RedstreamConfigError);
    await expect(redstream.status({ streams: ['x.delay'] })).rejects.toThrow(RedstreamConfigError);
    await expect(redstream.status({ maxLagCount: 0 })).rejects.toThrow(
      new RedstreamConfigError('Redstream.status: maxLagCount must be a positive integer, got 0'),
    );
  });

  it('reads a namespace of 200 streams in a few round trips', async () => {
    const pipeline = admin.pipeline();
    for (let i = 0; i < 200; i++) {
      pipeline.xadd(redstream.keys.stream(`s${i}`), '*', 'payload', '{}');
      pipeline.set(redstream.keys.offset(`s${i}`, 'c'), '0-0');
    }
    await pipeline.exec();
    const started = performance.now();
    const status = await redstream.status();
    const elapsedMs = performance.now() - started;
    expect(status.streams).toHaveLength(200);
    expect(status.streams.every((stream) => stream.consumers[0].lag === 1)).toBe(true);
    // Pipelined, 200 streams take a few hundred ms at worst on a loaded 2-core machine;
    // one round trip per command would be far above.
    expect(elapsedMs).toBeLessThan(5_000);
  });
});
