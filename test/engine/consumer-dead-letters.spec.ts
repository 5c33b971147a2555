import { Consumer, ConsumerOptions, Redstream, RedstreamConfigError, RedstreamMessage } from '../../lib/engine';
import { RecordingLogger } from '../support/recording-logger';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

type Payload = { n: number };

describe('Consumer deadLetter: poison isolation for offset consumers', () => {
  let redstream: Redstream;
  let logger: RecordingLogger;
  const consumer = (options: Partial<ConsumerOptions<Payload>>): Consumer<Payload> =>
    redstream.consumer<Payload>({
      stream: 'products',
      name: 'indexer',
      handler: () => undefined,
      blockMs: 200,
      backoffInitialMs: 10,
      backoffMaxMs: 50,
      ...options,
    });
  const queue = (count: number): Promise<string[]> =>
    redstream.producer().queue(
      'products',
      Array.from({ length: count }, (_, n) => ({ n })),
    );

  beforeEach(() => {
    logger = new RecordingLogger();
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace(), logger });
  });
  afterEach(() => redstream.close());

  /** Runs a batch of 1000 with `poison` entries failing on their own; returns the handler calls. */
  async function isolate(poison: number[], afterAttempts: number): Promise<number> {
    // The first read after activation asks for 10 entries (maxBatchBytes knows no sizes yet):
    // ten warm-up entries (n < 0) come first, then the batch of 1000.
    await redstream.producer().queue(
      'products',
      Array.from({ length: 10 }, (_, i) => ({ n: -1 - i })),
    );
    const ids = await queue(1_000);
    let calls = 0;
    const handledInOrder: number[] = [];
    const worker = consumer({
      batchSize: 1_000,
      deadLetter: { afterAttempts },
      handler: (messages: RedstreamMessage<Payload>[]) => {
        calls++;
        const bad = messages.find((m) => poison.includes(m.payload.n));
        if (bad) throw new Error(`cannot index ${bad.payload.n}`);
        handledInOrder.push(...messages.map((m) => m.payload.n).filter((n) => n >= 0));
      },
    });
    const deadLettered: string[] = [];
    worker.on('deadLettered', (entries) => deadLettered.push(...entries.map((e) => e.id)));
    worker.start();
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === ids[999]);
    await worker.stop();

    // Each healthy entry once, in stream order; the poisoned ones never.
    expect(handledInOrder).toEqual(Array.from({ length: 1_000 }, (_, n) => n).filter((n) => !poison.includes(n)));
    expect(deadLettered).toEqual(poison.map((n) => ids[n]));
    const { deadLetters } = await redstream.deadLetters('products');
    expect(deadLetters.map((d) => [d.originalId, JSON.parse(d.payload!), d.consumer, d.deliveries])).toEqual(
      poison.map((n) => [ids[n], { n }, 'indexer', afterAttempts + 1]),
    );
    expect(deadLetters[0].error).toBe(`Error: cannot index ${poison[0]}`);
    return calls;
  }

  it('isolates one poison entry in a batch of 1000', async () => {
    const calls = await isolate([421], 2);
    process.stdout.write(`offset consumer, 1 poison in 1000, afterAttempts 2: ${calls} handler calls\n`);
    // 2 failed attempts of the batch, then about 2·log2(1000) calls.
    expect(calls).toBeLessThanOrEqual(2 + 2 * 10 + 1);
    expect(
      logger.matching('warn', /moved 1 of 1000 messages .* to products\.dead after 2 failed attempts/),
    ).toHaveLength(1);
  });

  it('isolates two poison entries in a batch of 1000', async () => {
    const calls = await isolate([3, 998], 1);
    process.stdout.write(`offset consumer, 2 poison in 1000, afterAttempts 1: ${calls} handler calls\n`);
    expect(calls).toBeLessThanOrEqual(1 + 4 * 10 + 2);
  });

  it('treats a batch where nearly everything fails as an outage: nothing dead-lettered, retried whole', async () => {
    // The first batch is 10 entries (the first read after activation), all failing: an outage too.
    const ids = await queue(100);
    let down = true;
    let calls = 0;
    const worker = consumer({
      batchSize: 100,
      deadLetter: { afterAttempts: 1 },
      handler: () => {
        calls++;
        if (down) throw new Error('database unreachable');
      },
    });
    worker.start();
    await waitFor(() => logger.matching('warn', /more likely an outage than bad entries/).length >= 2);
    expect(await redstream.deadLetters('products')).toEqual({ deadLetters: [] });
    expect(await redstream.committedOffset('products', 'indexer')).toBeNull();
    // Bounded per isolation: about log2(100) + 2 × 10 calls, not 2 × 100.
    const isolations = logger.matching('warn', /more likely an outage/).length;
    expect(calls / isolations).toBeLessThan(40);
    down = false;
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === ids[99]);
  });

  it('is off by default and validates afterAttempts', () => {
    expect(() => consumer({ deadLetter: { afterAttempts: 0 } })).toThrow(RedstreamConfigError);
    expect(() => consumer({ deadLetter: { afterAttempts: 0 } })).toThrow(
      /Consumer products:indexer: deadLetter\.afterAttempts must be a positive integer/,
    );
    expect(() => consumer({ deadLetter: {} as { afterAttempts: number } })).toThrow(/afterAttempts/);
  });
});
