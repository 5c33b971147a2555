import Redis from 'ioredis';
import { hostname } from 'node:os';
import { Redstream, RedstreamConfigError, RedstreamKeys, silentLogger } from '../../lib/engine';
import {
  consumerLockName,
  deadLetterStreamName,
  memberName,
  trimmerLockName,
  validateConsumerName,
  validateGroupName,
  validateMemberName,
  validateReadableStreamName,
  validateStreamName,
} from '../../lib/engine/redstream-keys';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

/** Every key (with type) whose name contains `fragment`. */
async function keysContaining(redis: Redis, fragment: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `*${fragment}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) found.set(key, await redis.type(key));
  } while (cursor !== '0');
  return found;
}

/**
 * Runs every component once on `stream`: a queued and a delayed message, a consumer that
 * commits, a delayer that re-queues, a trimmer run; all stopped gracefully (so the notify
 * lists exist) except that a second consumer keeps its lock for the check.
 */
async function exerciseEveryComponent(redstream: Redstream, stream: string): Promise<void> {
  const producer = redstream.producer();
  const handled: string[] = [];
  const consumer = redstream.consumer({
    stream,
    name: 'indexer',
    lockTtlMs: 5_000,
    handler: (messages) => void handled.push(...messages.map((message) => message.id)),
  });
  const delayer = redstream.delayer({ stream, delay: 1 });
  consumer.start();
  delayer.start();
  await producer.queue(stream, { id: 1 });
  await producer.delay(stream, { id: 2 });
  await waitFor(() => handled.length === 2);
  await waitFor(async () => (await redstream.committedOffset(stream, 'indexer')) === handled[1]);
  await redstream.trimmer({ stream }).trimOnce();
  await Promise.all([consumer.stop(), delayer.stop()]);
}

describe('Redis key layout (the redstream gem)', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = connectTestRedis();
  });
  afterAll(() => admin.quit());

  it('builds the gem keys with and without a namespace', () => {
    const plain = new RedstreamKeys();
    expect(plain.base).toBe('redstream');
    expect(plain.stream('products')).toBe('redstream:stream:products');
    expect(plain.delayStream('products')).toBe('redstream:stream:products.delay');
    expect(plain.offset('products', 'indexer')).toBe('redstream:offset:products:indexer');
    expect(plain.offset('products.delay', 'delayer')).toBe('redstream:offset:products.delay:delayer');
    expect(plain.lock(consumerLockName('products', 'indexer'))).toBe('redstream:lock:consumer:products:indexer');
    expect(plain.lock(consumerLockName('products.delay', 'delayer'))).toBe(
      'redstream:lock:consumer:products.delay:delayer',
    );
    expect(plain.lock(trimmerLockName('products'))).toBe('redstream:lock:trimmer:products');
    expect(plain.notify('redstream:lock:trimmer:products')).toBe('redstream:lock:trimmer:products.notify');
    expect(plain.deadLetterStream('products')).toBe('redstream:stream:products.dead');
    expect(deadLetterStreamName('{products}')).toBe('{products}.dead');

    const namespaced = new RedstreamKeys('my_app');
    expect(namespaced.base).toBe('my_app:redstream');
    expect(namespaced.stream('products')).toBe('my_app:redstream:stream:products');
    expect(namespaced.offset('products', 'indexer')).toBe('my_app:redstream:offset:products:indexer');
    expect(namespaced.lock('consumer:products:indexer')).toBe('my_app:redstream:lock:consumer:products:indexer');
  });

  it.each([
    ['without a namespace', undefined],
    ['with a namespace', 'ns'],
  ])('writes exactly the gem keys in Redis %s', async (_label, namespacePrefix) => {
    // Without a namespace the keys are global: a random stream name keeps them apart.
    const stream = uniqueNamespace('products');
    const namespace = namespacePrefix ? uniqueNamespace(namespacePrefix) : undefined;
    const base = namespace ? `${namespace}:redstream` : 'redstream';
    const redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    try {
      await exerciseEveryComponent(redstream, stream);
      const keys = await keysContaining(admin, stream);
      expect(Object.fromEntries(keys)).toEqual({
        [`${base}:stream:${stream}`]: 'stream',
        [`${base}:stream:${stream}.delay`]: 'stream',
        [`${base}:offset:${stream}:indexer`]: 'string',
        [`${base}:offset:${stream}.delay:delayer`]: 'string',
        [`${base}:consumers:${stream}`]: 'set',
        [`${base}:lock:trimmer:${stream}`]: 'string',
        // Released on stop, each lock leaves its wake-up list for standbys (with a ttl).
        [`${base}:lock:consumer:${stream}:indexer.notify`]: 'list',
        [`${base}:lock:consumer:${stream}.delay:delayer.notify`]: 'list',
      });
      expect(await admin.pttl(`${base}:lock:consumer:${stream}:indexer.notify`)).toBeGreaterThan(0);
      expect(await admin.smembers(`${base}:consumers:${stream}`)).toEqual(['indexer']);

      // While a worker runs, its lock key holds its owner id with a ttl of lockTtlMs.
      const consumer = redstream.consumer({ stream, name: 'indexer', lockTtlMs: 4_000, handler: () => undefined });
      consumer.start();
      await waitFor(() => consumer.isActive);
      const lockKey = `${base}:lock:consumer:${stream}:indexer`;
      expect(await admin.get(lockKey)).toMatch(/^[0-9a-f]{32}$/);
      const ttl = await admin.pttl(lockKey);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(4_000);
      await consumer.stop();
      expect(await admin.exists(lockKey)).toBe(0);
    } finally {
      await redstream.close();
      const keys = await keysContaining(admin, stream);
      if (keys.size > 0) await admin.del(...keys.keys());
    }
  });

  it('writes one field, payload, holding the JSON of the message', async () => {
    const namespace = uniqueNamespace();
    const redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    try {
      const payload = { id: 7, name: 'Grüße "quoted"', nested: { list: [1, 2] } };
      const [queuedId] = await redstream.producer().queue('products', payload);
      const [delayedId] = await redstream.producer().delay('products', { id: 8 });
      const [[, queuedFields]] = await admin.xrange(`${namespace}:redstream:stream:products`, '-', '+');
      const [[, delayedFields]] = await admin.xrange(`${namespace}:redstream:stream:products.delay`, '-', '+');
      expect(queuedFields).toEqual(['payload', JSON.stringify(payload)]);
      expect(delayedFields).toEqual(['payload', '{"id":8}']);
      expect(queuedId).toMatch(/^\d+-\d+$/);
      expect(delayedId).toMatch(/^\d+-\d+$/);
    } finally {
      await redstream.close();
    }
  });

  it('keeps every key of a hash-tagged stream in the slot of its tag', async () => {
    const namespace = uniqueNamespace();
    const redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
    try {
      await exerciseEveryComponent(redstream, '{products}');
      // A process's wake key for its shared blocking reads (`<base>:wake:<random>:xread`) may be
      // here too: it belongs to no stream, and on a Cluster reads are not shared, so it never exists.
      const keys = [...(await keysContaining(admin, `${namespace}:`)).keys()].filter((key) => !key.includes(':wake:'));
      const base = `${namespace}:redstream`;
      expect(keys.sort()).toEqual(
        [
          `${base}:consumers:{products}`,
          `${base}:lock:consumer:{products}.delay:delayer.notify`,
          `${base}:lock:consumer:{products}:indexer.notify`,
          `${base}:lock:trimmer:{products}`,
          `${base}:offset:{products}.delay:delayer`,
          `${base}:offset:{products}:indexer`,
          `${base}:stream:{products}`,
          `${base}:stream:{products}.delay`,
        ].sort(),
      );
      // Redis Cluster hashes only the first {...} of a key: it must be the stream's tag.
      for (const key of keys) expect(/\{([^}]*)\}/.exec(key)?.[1]).toBe('products');
    } finally {
      await redstream.close();
    }
  });

  describe('name validation', () => {
    const redstream = new Redstream({ redis: testRedisUrl(), logger: silentLogger });
    afterAll(() => redstream.close());
    const handler = (): undefined => undefined;

    it.each([
      ['a colon', 'products:eu', /"products:eu" contains ':'/],
      ['a space', 'my products', /"my products" contains a space/],
      ['the .delay suffix', 'products.delay', /must not end with "\.delay"/],
      ['the .dead suffix', 'products.dead', /must not end with "\.dead": that suffix names a stream's dead-letter/],
      ['nothing', '', /non-empty/],
    ])('rejects a stream name with %s, naming the problem', async (_label, name, problem) => {
      const expectConfigError = (fn: () => unknown): void => {
        expect(fn).toThrow(RedstreamConfigError);
        expect(fn).toThrow(problem);
      };
      expectConfigError(() => validateStreamName(name));
      expectConfigError(() => redstream.consumer({ stream: name, name: 'indexer', handler }));
      expectConfigError(() => redstream.delayer({ stream: name, delay: 1000 }));
      expectConfigError(() => redstream.trimmer({ stream: name }));
      await expect(redstream.producer().queue(name, { id: 1 })).rejects.toThrow(RedstreamConfigError);
      await expect(redstream.producer().delay(name, { id: 1 })).rejects.toThrow(problem);
    });

    it.each([
      ['a colon', 'index:er', /"index:er" contains ':'/],
      ['a space', 'index er', /"index er" contains a space/],
      ['nothing', '', /non-empty/],
    ])('rejects a consumer name with %s', (_label, name, problem) => {
      expect(() => validateConsumerName(name)).toThrow(problem);
      expect(() => redstream.consumer({ stream: 'products', name, handler })).toThrow(RedstreamConfigError);
      expect(() => redstream.trimmer({ stream: 'products', consumerNames: [name] })).toThrow(problem);
    });

    it.each([
      ['a colon', 'index:ers', /Group name "index:ers" contains ':'/],
      ['a space', 'index ers', /Group name "index ers" contains a space/],
      ['a newline', 'indexers\n', /contains whitespace/],
      ['nothing', '', /Group name must be a non-empty string/],
      ['a number', 42, /Group name must be a non-empty string, got 42/],
      ['too many characters', 'g'.repeat(201), /longer than 200 characters/],
    ])('rejects a group name with %s', (_label, name, problem) => {
      expect(() => validateGroupName(name)).toThrow(RedstreamConfigError);
      expect(() => validateGroupName(name)).toThrow(problem);
    });

    it('accepts group names like consumer names, hash tags included', () => {
      expect(validateGroupName('indexers')).toBe('indexers');
      expect(validateGroupName('{products}-search.v2@eu/1')).toBe('{products}-search.v2@eu/1');
      expect(() => validateMemberName('a:b')).toThrow(/Member name "a:b" contains ':'/);
    });

    it('reads, but never writes, a dead-letter stream', () => {
      expect(validateReadableStreamName('products.dead')).toBe('products.dead');
      expect(validateReadableStreamName('{products}')).toBe('{products}');
      expect(() => validateReadableStreamName('products.dead.dead')).toThrow(/must not end with "\.dead"/);
      expect(() => validateReadableStreamName('products.delay.dead')).toThrow(/must not end with "\.delay"/);
      expect(() => validateReadableStreamName('a:b.dead')).toThrow(/contains ':'/);
      expect(() => validateStreamName('products.dead')).toThrow(RedstreamConfigError);
    });

    it('names every member anew: host, pid and a random part, valid in the layout', () => {
      const names = new Set(Array.from({ length: 100 }, () => memberName()));
      expect(names.size).toBe(100);
      for (const name of names) {
        expect(validateMemberName(name)).toBe(name);
        expect(
          name.startsWith(
            `${hostname()
              .replace(/[^A-Za-z0-9_.-]/g, '_')
              .slice(0, 100)}-${process.pid}-`,
          ),
        ).toBe(true);
      }
      expect(memberName('my laptop:1')).toMatch(new RegExp(`^my_laptop_1-${process.pid}-[0-9a-f]{12}$`));
      expect(memberName('')).toMatch(/^host-/);
    });

    it('rejects a namespace with a space or a newline', () => {
      expect(() => new Redstream({ namespace: 'my app' })).toThrow(RedstreamConfigError);
      expect(() => new RedstreamKeys('app\n')).toThrow(/contains whitespace \("\\n"\)/);
    });

    it('accepts hash tags, dots, dashes and a namespace with colons', () => {
      expect(validateStreamName('{products}')).toBe('{products}');
      expect(validateStreamName('products-4.eu_west')).toBe('products-4.eu_west');
      expect(new RedstreamKeys('app:eu').base).toBe('app:eu:redstream');
    });
  });
});
