import Redis from 'ioredis';
import {
  GroupConsumer,
  GroupConsumerOptions,
  Redstream,
  RedstreamConfigError,
  RedstreamMessage,
} from '../../lib/engine';
import { RecordingLogger } from '../support/recording-logger';
import { waitFor } from '../support/test-redis';
import { closeTestRedstream, openTestRedstream } from '../support/test-redstream';

type Payload = { n: number };
type PendingRow = [id: string, member: string, idleMs: number, deliveries: number];

describe('GroupConsumer', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  let logger: RecordingLogger;
  const streamKey = (stream = 'products'): string => `${namespace}:redstream:stream:${stream}`;
  const groupConsumer = (options: Partial<GroupConsumerOptions<Payload>> = {}): GroupConsumer<Payload> =>
    redstream.groupConsumer<Payload>({
      stream: 'products',
      group: 'indexers',
      handler: () => undefined,
      blockMs: 200,
      backoffInitialMs: 20,
      backoffMaxMs: 100,
      claimIdleMs: 1_000,
      claimIntervalMs: 200,
      ...options,
    });
  const queue = (count: number, from = 0): Promise<string[]> =>
    redstream.producer().queue(
      'products',
      Array.from({ length: count }, (_, index) => ({ n: from + index })),
    );
  const pending = async (): Promise<PendingRow[]> =>
    (await admin.xpending(streamKey(), 'indexers', '-', '+', 10_000)) as PendingRow[];

  beforeEach(() => {
    logger = new RecordingLogger();
    ({ namespace, redstream, admin } = openTestRedstream(undefined, logger));
  });
  afterEach(() => closeTestRedstream({ redstream, admin }));

  it('creates the group from the start of the stream, handles every entry in order and acks it', async () => {
    const ids = await queue(25);
    const handled: string[] = [];
    const consumer = groupConsumer({
      batchSize: 10,
      handler: (messages) => void handled.push(...messages.map((m) => m.id)),
    });
    const acked: number[] = [];
    consumer.on('acked', (count) => acked.push(count));
    consumer.start();
    await waitFor(() => handled.length === 25);
    expect(handled).toEqual(ids);
    await waitFor(() => acked.reduce((a, b) => a + b, 0) === 25);
    expect(await pending()).toEqual([]);
    const info = await redstream.groupInfo('products', 'indexers');
    expect(info?.members.map((m) => m.name)).toEqual([consumer.member]);
    expect(consumer.member).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{12}$`));

    // New entries arrive while blocked.
    const more = await queue(3, 25);
    await waitFor(() => handled.length === 28);
    expect(handled.slice(25)).toEqual(more);
  });

  it("startAt 'end' skips what was written before the group existed", async () => {
    await queue(3);
    const handled: number[] = [];
    const consumer = groupConsumer({ startAt: 'end', handler: (m) => void handled.push(...m.map((x) => x.payload.n)) });
    const active = new Promise((resolve) => consumer.once('active', resolve));
    consumer.start();
    await active;
    await queue(2, 100);
    await waitFor(() => handled.length === 2);
    expect(handled).toEqual([100, 101]);
  });

  it('a poison entry reaches .dead after maxDeliveries while the rest flows on; replay puts it back', async () => {
    await queue(50);
    let poisonCalls = 0;
    const handledOk = new Set<number>();
    let healed = false;
    const handler = (messages: RedstreamMessage<Payload>[]): void => {
      if (!healed && messages.some((m) => m.payload.n === 17)) {
        poisonCalls++;
        throw new Error('cannot index 17');
      }
      for (const m of messages) handledOk.add(m.payload.n);
    };
    const consumer = groupConsumer({ batchSize: 20, maxDeliveries: 3, handler });
    const deadLettered: string[] = [];
    consumer.on('deadLettered', (entries) => deadLettered.push(...entries.map((e) => e.id)));
    consumer.start();
    await waitFor(() => deadLettered.length === 1);
    expect(handledOk.size).toBe(49);
    expect(handledOk.has(17)).toBe(false);
    expect(await pending()).toEqual([]);

    const page = await redstream.deadLetters('products');
    expect(page.deadLetters).toHaveLength(1);
    const [dead] = page.deadLetters;
    expect(dead).toMatchObject({
      originalId: deadLettered[0],
      group: 'indexers',
      member: consumer.member,
      deliveries: 3,
    });
    expect(JSON.parse(dead.payload!)).toEqual({ n: 17 });
    expect(dead.error).toContain('cannot index 17');
    // The batch call, then the lone retries: the healthy entries were never handled twice
    // after the first isolation.
    expect(poisonCalls).toBeGreaterThanOrEqual(3);
    // One line per failure, with the id range and the attempt.
    const lines = logger.messages('error');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /handler failed on 20 messages \S+\.\.\S+ \(attempt 1, delivery 1\): cannot index 17; 1 fails on its own/,
    );
    expect(lines[1]).toMatch(/handler failed on 1 message \S+ \(attempt 2, delivery 2\)/);
    expect(lines[2]).toMatch(/\(attempt 3, delivery 3\).*1 moved to products\.dead/);

    healed = true;
    const replay = await redstream.replayDeadLetters('products');
    expect(replay.replayed).toHaveLength(1);
    await waitFor(() => handledOk.has(17));
    expect((await redstream.deadLetters('products')).deadLetters).toEqual([]);
  });

  it('rejects bad options with RedstreamConfigError naming the option', () => {
    expect(() => groupConsumer({ maxDeliveries: -1 })).toThrow(RedstreamConfigError);
    expect(() => groupConsumer({ maxDeliveries: -1 })).toThrow(/GroupConsumer products:indexers: maxDeliveries/);
    expect(() => groupConsumer({ group: 'a:b' })).toThrow(RedstreamConfigError);
    expect(() => groupConsumer({ group: '' })).toThrow(/Group name/);
    expect(() => groupConsumer({ claimIdleMs: 100, backoffMaxMs: 100 })).toThrow(
      /claimIdleMs \(100\) must exceed backoffMaxMs/,
    );
    expect(() => groupConsumer({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => groupConsumer({ startAt: 'middle' as 'begin' })).toThrow(/startAt/);
    expect(() => groupConsumer({ forgetIdleMs: 100, blockMs: 200 })).toThrow(/forgetIdleMs/);
    expect(() => groupConsumer({ handler: undefined as never })).toThrow(/handler must be a function/);
  });

  it('stops promptly while blocked in XREADGROUP, leaves the group, and resumes on restart', async () => {
    const handled: number[] = [];
    const consumer = groupConsumer({
      blockMs: 10_000,
      handler: (m) => void handled.push(...m.map((x) => x.payload.n)),
    });
    const active = new Promise((resolve) => consumer.once('active', resolve));
    consumer.start();
    await active;
    // Blocked in XREADGROUP by now or very soon.
    await waitFor(async () => String(await admin.call('CLIENT', 'LIST')).includes('xreadgroup'));
    const started = Date.now();
    await consumer.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await redstream.groupInfo('products', 'indexers'))?.members).toEqual([]);

    await queue(3);
    consumer.start();
    await waitFor(() => handled.length === 3);
    expect(handled).toEqual([0, 1, 2]);
  });

  it('recreates a group deleted by hand under a running member, logs it once and does not crash-loop', async () => {
    const handled: number[] = [];
    const consumer = groupConsumer({ handler: (m) => void handled.push(...m.map((x) => x.payload.n)) });
    const failures: Error[] = [];
    consumer.on('failed', (error) => failures.push(error));
    await queue(2);
    consumer.start();
    await waitFor(() => handled.length === 2);
    await waitFor(async () => String(await admin.call('CLIENT', 'LIST')).includes('xreadgroup'));

    await admin.xgroup('DESTROY', streamKey(), 'indexers');
    await queue(1, 2);
    // Recreated from the start: the entries still in the stream come again (at least once).
    await waitFor(() => handled.includes(2));
    await waitFor(async () => (await redstream.groupInfo('products', 'indexers'))?.pending === 0);
    expect(logger.matching('warn', /was deleted while member .* was running; recreated it/)).toHaveLength(1);
    expect(failures.length).toBeLessThanOrEqual(1);
    await queue(1, 3);
    await waitFor(() => handled.includes(3));
    expect(logger.matching('warn', /was deleted/)).toHaveLength(1);
  });

  it('acknowledges unparsable entries without handling them, and goes on', async () => {
    await admin.xadd(streamKey(), '*', 'payload', 'not json');
    await queue(1);
    const handled: number[] = [];
    const consumer = groupConsumer({ handler: (m) => void handled.push(...m.map((x) => x.payload.n)) });
    const rejected: string[] = [];
    consumer.on('rejected', (entries) => rejected.push(...entries.map((e) => e.reason)));
    consumer.start();
    await waitFor(() => handled.length === 1 && rejected.length === 1);
    expect(rejected[0]).toMatch(/not JSON/);
    await waitFor(async () => (await pending()).length === 0);
    expect(logger.matching('warn', /acknowledging entry \S+ without handling it/)).toHaveLength(1);
  });

  it('concurrency: several batches in flight at once in one instance', async () => {
    await queue(20);
    let inFlight = 0;
    let most = 0;
    let handled = 0;
    const consumer = groupConsumer({
      batchSize: 5,
      concurrency: 3,
      handler: async (m) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 50));
        inFlight--;
        handled += m.length;
      },
    });
    consumer.start();
    await waitFor(() => handled === 20);
    expect(most).toBe(3);
    await waitFor(async () => (await pending()).length === 0);
    await consumer.stop();
  });

  it('claims entries idle with a stuck member in the same process, and removes members gone for forgetIdleMs', async () => {
    await queue(4);
    // A member that read the entries and never acknowledges them.
    await admin.xgroup('CREATE', streamKey(), 'indexers', '0');
    await admin.xreadgroup('GROUP', 'indexers', 'stuck', 'COUNT', 10, 'STREAMS', streamKey(), '>');
    await admin.xgroup('CREATECONSUMER', streamKey(), 'indexers', 'ghost');
    const handled: number[] = [];
    const consumer = groupConsumer({
      forgetIdleMs: 500,
      handler: (m) => void handled.push(...m.map((x) => x.payload.n)),
    });
    const claimed: number[] = [];
    consumer.on('claimed', (count) => claimed.push(count));
    consumer.start();
    await waitFor(() => handled.length === 4);
    expect(claimed).toEqual([4]);
    expect(handled).toEqual([0, 1, 2, 3]);
    // 'stuck' has nothing pending now and idles: both it and 'ghost' go.
    await waitFor(async () => (await redstream.groupInfo('products', 'indexers'))?.members.length === 1, 5_000);
    expect((await redstream.groupInfo('products', 'indexers'))?.members.map((m) => m.name)).toEqual([consumer.member]);
  });

  it('bisection isolates two poison entries in a batch of 1000 (maxDeliveries 1: dead-lettered at once)', async () => {
    const ids = await queue(1_000);
    const poison = [10, 700];
    let calls = 0;
    const handled: number[] = [];
    const consumer = groupConsumer({
      batchSize: 1_000,
      maxDeliveries: 1,
      handler: (messages) => {
        calls++;
        if (messages.some((m) => poison.includes(m.payload.n))) throw new Error('poison');
        handled.push(...messages.map((m) => m.payload.n));
      },
    });
    const deadLettered: string[] = [];
    consumer.on('deadLettered', (entries) => deadLettered.push(...entries.map((e) => e.id)));
    consumer.start();
    await waitFor(() => deadLettered.length === 2);
    process.stdout.write(`group consumer, 2 poison in 1000: ${calls} handler calls\n`);
    expect(deadLettered).toEqual(poison.map((n) => ids[n]));
    expect(handled).toEqual(Array.from({ length: 1_000 }, (_, n) => n).filter((n) => !poison.includes(n)));
    expect(calls).toBeLessThanOrEqual(1 + 4 * 10 + 2);
    expect(await pending()).toEqual([]);
  });

  it('a restart handles its own pending entries first, without waiting for the retry backoff or a claim', async () => {
    await queue(1);
    let failNext = true;
    const handled: number[] = [];
    const consumer = groupConsumer({
      backoffInitialMs: 5_000,
      backoffMaxMs: 5_000,
      claimIdleMs: 10_000,
      maxDeliveries: 0,
      handler: (messages) => {
        if (failNext) {
          failNext = false;
          throw new Error('not yet');
        }
        handled.push(...messages.map((m) => m.payload.n));
      },
    });
    const failed = new Promise((resolve) => consumer.once('failed', resolve));
    consumer.start();
    await failed;
    await consumer.stop();
    expect((await pending()).map(([, member]) => member)).toEqual([consumer.member]);
    const restartedAt = Date.now();
    consumer.start();
    await waitFor(() => handled.length === 1);
    expect(Date.now() - restartedAt).toBeLessThan(3_000);
    await waitFor(async () => (await pending()).length === 0);
  });
});
