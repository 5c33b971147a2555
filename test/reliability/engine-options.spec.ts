import { Redstream, RedstreamConfigError, RedstreamLogger } from '../../lib/engine';
import { freePort } from '../support/redis-server';
import { sleep, waitFor } from '../support/test-redis';
import { RecordingLogger } from '../support/recording-logger';

// Wrong options fail at construction with RedstreamConfigError naming the option, before
// anything touches Redis: a typo must not become a worker that silently does nothing.
describe('engine options errors', () => {
  let redstream: Redstream;
  let logger: RecordingLogger;

  beforeEach(async () => {
    logger = new RecordingLogger();
    // Nothing listens there: any connection attempt would show up as a logged connection error.
    redstream = new Redstream({ redis: `redis://127.0.0.1:${await freePort()}`, logger });
  });

  afterEach(() => redstream.close());

  const handler = (): void => undefined;

  it.each([
    ['batchSize 0', { batchSize: 0 }, /batchSize must be a positive integer/],
    ['a fractional blockMs', { blockMs: 1.5 }, /blockMs must be a positive integer/],
    ['a string lockTtlMs', { lockTtlMs: '5000' as unknown as number }, /lockTtlMs must be a positive integer/],
    ['lockRefreshMs not below lockTtlMs', { lockTtlMs: 1000, lockRefreshMs: 1000 }, /lockRefreshMs .* below/],
    ['backoffMaxMs below backoffInitialMs', { backoffInitialMs: 500, backoffMaxMs: 100 }, /backoffMaxMs/],
    ['a negative readGraceMs', { readGraceMs: -1 }, /readGraceMs must be a positive integer/],
    ['handlerTimeoutMs 0', { handlerTimeoutMs: 0 }, /handlerTimeoutMs must be a positive/],
    ['handlerTimeoutMs Infinity (leave it out for no timeout)', { handlerTimeoutMs: Infinity }, /got Infinity/],
  ])('Consumer: rejects %s', async (_label, options, message) => {
    const create = (): unknown => redstream.consumer({ stream: 'products', name: 'indexer', handler, ...options });
    expect(create).toThrow(RedstreamConfigError);
    expect(create).toThrow(message);
    if (!('handlerTimeoutMs' in options)) await expectNoConnectionAttempt();
  });

  it('Consumer: rejects a missing handler', () => {
    expect(() =>
      redstream.consumer({ stream: 'products', name: 'indexer', handler: undefined as unknown as typeof handler }),
    ).toThrow(/handler must be a function/);
  });

  it.each([
    ['a negative delay', -5, /delay must be a non-negative number/],
    ['an unknown unit', '5 minutes', /delay must be milliseconds or a duration/],
    ['NaN', Number.NaN, /delay must be a non-negative number/],
  ])('Delayer: rejects %s', (_label, delay, message) => {
    const create = (): unknown => redstream.delayer({ stream: 'products', delay });
    expect(create).toThrow(RedstreamConfigError);
    expect(create).toThrow(message);
  });

  it.each([
    ['an invalid interval', { interval: 'soon' }, /interval must be milliseconds or a duration/],
    ['an invalid consumer name', { consumerNames: ['bad name'] }, /Consumer name "bad name"/],
    ['lockRefreshMs above lockTtlMs', { lockTtlMs: 100, lockRefreshMs: 200 }, /lockRefreshMs/],
  ])('Trimmer: rejects %s', async (_label, options, message) => {
    const create = (): unknown => redstream.trimmer({ stream: 'products', ...options });
    expect(create).toThrow(RedstreamConfigError);
    expect(create).toThrow(message);
    await expectNoConnectionAttempt();
  });

  it.each([
    ['sliceSize 0', { sliceSize: 0 }, /sliceSize must be a positive integer/],
    ['a negative commandTimeoutMs', { commandTimeoutMs: -1 }, /commandTimeoutMs must be a positive number/],
    ['wait without replicas', { wait: { replicas: 0, timeoutMs: 100 } }, /wait\.replicas/],
  ])('Producer: rejects %s', (_label, options, message) => {
    const create = (): unknown => redstream.producer(options);
    expect(create).toThrow(RedstreamConfigError);
    expect(create).toThrow(message);
  });

  // A rejected option must not leave a connection behind that retries until close(): options
  // are validated before any connection is created, and connections open on first use.
  it.each([
    [
      'Consumer handler',
      () => redstream.consumer({ stream: 'products', name: 'indexer', handler: undefined as never }),
    ],
    ['Consumer handlerTimeoutMs', () => redstream.consumer({ stream: 'p', name: 'n', handler, handlerTimeoutMs: 0 })],
    ['Delayer delay', () => redstream.delayer({ stream: 'products', delay: 'soon' })],
    ['Producer sliceSize', () => redstream.producer({ sliceSize: 0 })],
  ])('an invalid %s opens no Redis connection', async (_label, create) => {
    expect(create).toThrow(RedstreamConfigError);
    await expectNoConnectionAttempt();
  });

  describe('logger', () => {
    const noWarn = { log: () => undefined, error: () => undefined } as unknown as RedstreamLogger;

    it.each([
      [
        'an object without warn',
        noWarn,
        /Redstream: logger must be an object with log, warn and error methods, or false; it has no warn method/,
      ],
      ['a string', 'console', /Redstream: logger must be .*, or false, got "console"/],
      ['true', true, /Redstream: logger must be .*, or false, got true/],
      ['null', null, /Redstream: logger must be .*, or false, got null/],
    ])('Redstream: rejects %s', (_label, value, message) => {
      const create = (): unknown => new Redstream({ logger: value as RedstreamLogger });
      expect(create).toThrow(RedstreamConfigError);
      expect(create).toThrow(message);
    });

    it('Redstream: logger false (a plain JS caller, as the module accepts) logs nothing', async () => {
      const printed = (['log', 'warn', 'error', 'info', 'debug'] as const).map((method) =>
        jest.spyOn(console, method).mockImplementation(() => undefined),
      );
      const silent = new Redstream({ redis: `redis://127.0.0.1:${await freePort()}`, logger: false });
      try {
        const consumer = silent.consumer({ stream: 'products', name: 'indexer', backoffMaxMs: 200, handler });
        let failures = 0;
        consumer.on('failed', () => failures++);
        consumer.start();
        await waitFor(() => failures >= 2, 15_000);
        await consumer.stop();
      } finally {
        await silent.close();
        for (const spy of printed) spy.mockRestore();
      }
      for (const spy of printed) expect(spy).not.toHaveBeenCalled();
    });

    it.each([
      ['Consumer', () => redstream.consumer({ stream: 'products', name: 'indexer', handler, logger: noWarn })],
      ['Delayer', () => redstream.delayer({ stream: 'products', delay: 1, logger: noWarn })],
      ['Trimmer', () => redstream.trimmer({ stream: 'products', logger: noWarn })],
    ])('%s: rejects a logger option without warn, opening no connection', async (worker, create) => {
      expect(create).toThrow(RedstreamConfigError);
      expect(create).toThrow(new RegExp(`^${worker} products(:indexer)?: logger must be .*; it has no warn method`));
      await expectNoConnectionAttempt();
    });

    it('a worker with logger false logs nothing of its own; the engine logger keeps the rest', async () => {
      const consumer = redstream.consumer({
        stream: 'products',
        name: 'indexer',
        backoffMaxMs: 200,
        handler,
        logger: false,
      });
      const trimmer = redstream.trimmer({ stream: 'products', backoffMaxMs: 200, logger: false });
      let failures = 0;
      consumer.on('failed', () => failures++);
      trimmer.on('failed', () => failures++);
      consumer.start();
      trimmer.start();
      await waitFor(() => failures >= 4, 15_000);
      await Promise.all([consumer.stop(), trimmer.stop()]);
      expect(logger.matching('error', /Consumer|Trimmer/)).toEqual([]);
      // The connections are the engine's: their errors still reach its logger.
      expect(logger.matching('error', /Redis connection/).length).toBeGreaterThan(0);
    });
  });

  async function expectNoConnectionAttempt(): Promise<void> {
    await sleep(100);
    expect(logger.matching('error', /Redis connection/)).toEqual([]);
  }
});
