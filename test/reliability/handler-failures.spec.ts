import { ConsumerHandler, Redstream, RedstreamHandlerTimeoutError, RedstreamMessage } from '../../lib/engine';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { RecordingLogger } from '../support/recording-logger';

type Failure = 'an Error' | 'a string' | 'a plain object' | 'a rejection' | 'undefined';

const failWith: Record<Failure, () => unknown> = {
  'an Error': () => {
    throw new Error('index unavailable');
  },
  'a string': () => {
    throw 'index unavailable';
  },
  'a plain object': () => {
    throw { code: 'E_INDEX' };
  },
  'a rejection': () => Promise.reject(new Error('index unavailable')),
  undefined: () => {
    throw undefined;
  },
};

// A failing handler must neither lose the batch nor skip past it: the same batch is retried
// after a backoff until it succeeds, and every failure is logged with its reason.
describe('failing handlers', () => {
  let redstream: Redstream;
  let logger: RecordingLogger;

  beforeEach(() => {
    logger = new RecordingLogger();
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace('handler'), logger });
  });

  afterEach(() => redstream.close());

  async function consumeWith(handler: ConsumerHandler<{ id: number }>, options: { handlerTimeoutMs?: number } = {}) {
    const producer = redstream.producer();
    const ids = await producer.queue('products', [{ id: 1 }, { id: 2 }, { id: 3 }]);
    const consumer = redstream.consumer<{ id: number }>({
      stream: 'products',
      name: 'indexer',
      batchSize: 2,
      blockMs: 300,
      backoffInitialMs: 20,
      backoffMaxMs: 100,
      handler,
      ...options,
    });
    const failures: Error[] = [];
    consumer.on('failed', (error) => failures.push(error));
    consumer.start();
    await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === ids[2], 10_000);
    await consumer.stop();
    return { ids, failures };
  }

  it.each(Object.keys(failWith) as Failure[])('retries the same batch when the handler fails with %s', async (kind) => {
    const handled: number[][] = [];
    let attempts = 0;
    const { failures } = await consumeWith((messages) => {
      attempts++;
      if (attempts <= 2) return failWith[kind]();
      handled.push(messages.map((message) => message.payload.id));
    });

    expect(handled).toEqual([[1, 2], [3]]);
    expect(failures).toHaveLength(2);
    for (const failure of failures) expect(failure).toBeInstanceOf(Error);
    const errors = logger.matching('error', /handler failed on 2 messages .* retrying the same batch/);
    expect(errors).toHaveLength(2);
    if (kind === 'a string') expect(errors[0].message).toContain('index unavailable');
  });

  it('treats a handler that never settles as failed after handlerTimeoutMs and retries', async () => {
    const handled: RedstreamMessage<{ id: number }>[] = [];
    let attempts = 0;
    const startedAt = Date.now();
    const { failures } = await consumeWith(
      (messages) => {
        attempts++;
        if (attempts === 1) return new Promise(() => undefined);
        handled.push(...messages);
      },
      { handlerTimeoutMs: 300 },
    );

    expect(handled.map((message) => message.payload.id)).toEqual([1, 2, 3]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(RedstreamHandlerTimeoutError);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300);
    expect(logger.matching('error', /did not settle within 300 ms/)).toHaveLength(1);
  });

  it('does not commit while the handler keeps failing', async () => {
    await redstream.producer().queue('products', { id: 1 });
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      blockMs: 300,
      backoffInitialMs: 10,
      backoffMaxMs: 20,
      handler: () => {
        throw new Error('down');
      },
    });
    let failures = 0;
    consumer.on('failed', () => failures++);
    consumer.start();
    await waitFor(() => failures >= 5);
    await consumer.stop();
    expect(await redstream.committedOffset('products', 'indexer')).toBeNull();
  });
});
