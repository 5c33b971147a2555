import Redis from 'ioredis';
import { Consumer, ConsumerOptions, Redstream, silentLogger, Trimmer } from '../../lib/engine';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

/** A promise with its resolve function, to hold a handler until the test lets it go. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

// Engine workers are restartable: the same object runs again after stop(), from the offset
// committed in Redis, with its listeners. Start and stop calls in any order end in the state
// the last call asked for.
describe('restarting workers', () => {
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const lockKey = (): string => `${namespace}:redstream:lock:consumer:products:indexer`;
  const committed = (): Promise<string | null> => redstream.committedOffset('products', 'indexer');
  const consumer = (options: Partial<ConsumerOptions<Record<string, unknown>>> = {}): Consumer =>
    redstream.consumer({ stream: 'products', name: 'indexer', handler: () => undefined, ...options });
  const queue = (count: number, from = 0): Promise<string[]> =>
    redstream.producer().queue(
      'products',
      Array.from({ length: count }, (_, index) => ({ id: from + index })),
    );

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
  });
  afterEach(async () => {
    await redstream.close({ drainTimeoutMs: 1_000 });
    await admin.quit();
  });

  it('resumes after the committed offset on start() after stop(), with the listeners attached before', async () => {
    const first = await queue(3);
    const seen: string[] = [];
    const actives: string[] = [];
    const commits: string[] = [];
    const worker = consumer({ handler: (messages) => void seen.push(...messages.map((message) => message.id)) });
    worker.on('active', (offset) => actives.push(offset));
    worker.on('committed', (offset) => commits.push(offset));
    worker.start();
    await waitFor(async () => (await committed()) === first[2]);
    await worker.stop();
    expect(worker.isRunning).toBe(false);
    expect(worker.isActive).toBe(false);
    expect(await admin.exists(lockKey())).toBe(0);

    const second = await queue(2, 3);
    worker.start();
    expect(worker.isRunning).toBe(true);
    await waitFor(async () => (await committed()) === second[1]);
    expect(seen).toEqual([...first, ...second]);
    expect(actives).toEqual(['0-0', first[2]]);
    expect(commits).toEqual([first[2], second[1]]);
    expect(worker.isActive).toBe(true);
  });

  it('stop() while starting ends stopped: never active, the lock free', async () => {
    const worker = consumer();
    let activations = 0;
    worker.on('active', () => activations++);
    worker.start(); // the lock request is in flight now
    await worker.stop();
    expect(worker.isRunning).toBe(false);
    expect(worker.isActive).toBe(false);
    expect(activations).toBe(0);
    expect(await admin.exists(lockKey())).toBe(0);
  });

  it('start() while stopping ends running: the stop finishes (batch committed, lock released), then it starts again', async () => {
    const ids = await queue(2);
    const release = deferred();
    const seen: string[] = [];
    const worker = consumer({
      batchSize: 1,
      handler: async (messages) => {
        seen.push(...messages.map((message) => message.id));
        if (seen.length === 1) await release.promise;
      },
    });
    const actives: string[] = [];
    worker.on('active', (offset) => actives.push(offset));
    worker.start();
    await waitFor(() => seen.length === 1);
    const stopping = worker.stop();
    worker.start();
    expect(worker.isRunning).toBe(true);
    release.resolve();
    await stopping;
    await waitFor(async () => (await committed()) === ids[1]);
    expect(seen).toEqual(ids);
    // The first run committed the batch it was in and let go; the second took over after it.
    expect(actives).toEqual(['0-0', ids[0]]);
    expect(worker.isActive).toBe(true);
  });

  it('stop() calls in flight share a promise; after a restart stop() gives a new one', async () => {
    const worker = consumer();
    worker.start();
    await waitFor(() => worker.isActive);
    const first = worker.stop();
    expect(worker.stop()).toBe(first);
    await first;
    expect(worker.stop()).toBe(first);
    worker.start();
    await waitFor(() => worker.isActive);
    const second = worker.stop();
    expect(second).not.toBe(first);
    expect(worker.stop()).toBe(second);
    await second;
    expect(worker.isActive).toBe(false);
  });

  it.each([
    ['stop, start, stop, start', ['stop', 'start', 'stop', 'start'], true],
    ['stop, start, stop', ['stop', 'start', 'stop'], false],
    ['start, stop, start', ['start', 'stop', 'start'], true],
    ['stop, stop, start, start', ['stop', 'stop', 'start', 'start'], true],
  ] as const)('ends as the last call says: %s on a running worker', async (_label, calls, running) => {
    const worker = consumer();
    worker.start();
    await waitFor(() => worker.isActive);
    const stops: Promise<void>[] = [];
    for (const call of calls) {
      if (call === 'stop') stops.push(worker.stop());
      else worker.start();
    }
    expect(worker.isRunning).toBe(running);
    await Promise.all(stops);
    if (running) {
      await waitFor(() => worker.isActive);
      const [id] = await queue(1);
      await waitFor(async () => (await committed()) === id);
    } else {
      await worker.stop();
      expect(worker.isActive).toBe(false);
      expect(await admin.exists(lockKey())).toBe(0);
    }
    expect(worker.isRunning).toBe(running);
  });

  it.each([
    ['stop, start', ['stop', 'start'], true],
    ['stop, start, stop', ['stop', 'start', 'stop'], false],
    ['start, stop, start', ['start', 'stop', 'start'], true],
  ] as const)(
    'ends as the last call says: %s on a worker never started, with one loop',
    async (_label, calls, running) => {
      const ids = await queue(3);
      const seen: string[] = [];
      let activations = 0;
      const worker = consumer({
        batchSize: 1,
        handler: (messages) => void seen.push(...messages.map((message) => message.id)),
      });
      worker.on('active', () => activations++);
      const stops: Promise<void>[] = [];
      for (const call of calls) {
        if (call === 'stop') stops.push(worker.stop());
        else worker.start();
      }
      expect(worker.isRunning).toBe(running);
      await Promise.all(stops);
      if (running) {
        await waitFor(async () => (await committed()) === ids[2]);
        expect(seen).toEqual(ids);
        expect(activations).toBe(1);
      } else {
        expect(worker.isActive).toBe(false);
        expect(activations).toBe(0);
        expect(await admin.exists(lockKey())).toBe(0);
      }
    },
  );

  it('a standby that is restarted while another instance works stays a standby and takes over later', async () => {
    const seen: string[] = [];
    const active = consumer();
    active.start();
    await waitFor(() => active.isActive);
    const standby = consumer({
      standbyPollMs: 100,
      handler: (messages) => void seen.push(...messages.map((message) => message.id)),
    });
    standby.start();
    await standby.stop();
    standby.start();
    await active.stop();
    await waitFor(() => standby.isActive);
    const [id] = await queue(1);
    await waitFor(() => seen.includes(id));
  });

  it('restarts a Delayer, which re-queues what became due meanwhile', async () => {
    const delayer = redstream.delayer({ stream: 'products', delay: 50, blockMs: 200 });
    const producer = redstream.producer();
    delayer.start();
    await producer.delay('products', { id: 1 });
    await waitFor(async () => (await redstream.streamLength('products')) === 1);
    await delayer.stop();
    await producer.delay('products', { id: 2 });
    delayer.start();
    await waitFor(async () => (await redstream.streamLength('products')) === 2);
    expect(await redstream.delayStreamLength('products')).toBe(0);
  });

  describe('Trimmer', () => {
    const offsetKey = (): string => `${namespace}:redstream:offset:products:indexer`;
    const trimmerLock = (): string => `${namespace}:redstream:lock:trimmer:products`;

    it('trims again after a restart, keeping its listeners', async () => {
      const ids = await queue(4);
      await admin.sadd(`${namespace}:redstream:consumers:products`, 'indexer');
      await admin.set(offsetKey(), ids[1]);
      const trimmer: Trimmer = redstream.trimmer({ stream: 'products', interval: 50 });
      let activations = 0;
      trimmer.on('active', () => activations++);
      trimmer.start();
      await waitFor(async () => (await redstream.streamLength('products')) === 2);
      await trimmer.stop();
      expect(await admin.exists(trimmerLock())).toBe(0);
      expect(trimmer.isActive).toBe(false);

      await admin.set(offsetKey(), ids[3]);
      trimmer.start();
      await waitFor(async () => (await redstream.streamLength('products')) === 0);
      expect(activations).toBe(2);
      expect(trimmer.isActive).toBe(true);
      await trimmer.stop();
    });

    it('activates (keep-alive, event) when started after trimOnce() took the lock', async () => {
      // A long interval: after its first run only the keep-alive refreshes the lock.
      const trimmer = redstream.trimmer({ stream: 'products', interval: '10s', lockTtlMs: 600, lockRefreshMs: 200 });
      await trimmer.trimOnce();
      const owner = await admin.get(trimmerLock());
      expect(owner).not.toBeNull();
      const activated = new Promise<void>((resolve) => trimmer.once('active', () => resolve()));
      trimmer.start();
      await activated;
      expect(trimmer.isActive).toBe(true);
      let lastTtl = await admin.pttl(trimmerLock());
      await waitFor(async () => {
        const ttl = await admin.pttl(trimmerLock());
        const refreshed = ttl > lastTtl;
        lastTtl = ttl;
        return refreshed;
      });
      expect(await admin.get(trimmerLock())).toBe(owner);
      await trimmer.stop();
    });

    it('keeps one of two started trimmers active; the other takes over when it stops', async () => {
      const options = { stream: 'products', interval: 50, standbyPollMs: 100 };
      const first = redstream.trimmer(options);
      const second = redstream.trimmer(options);
      first.start();
      await waitFor(() => first.isActive);
      second.start();
      const standby = new Promise<void>((resolve) => second.once('active', () => resolve()));
      await first.stop();
      await standby;
      expect(second.isActive).toBe(true);
      await second.stop();
    });
  });
});
