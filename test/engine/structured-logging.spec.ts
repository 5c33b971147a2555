import { inspect } from 'node:util';
import type Redis from 'ioredis';
import { Consumer, GroupConsumer, Redstream, RedstreamLogRecord } from '../../lib/engine';
import { RecordingLogger } from '../support/recording-logger';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

const FAST = {
  blockMs: 200,
  lockTtlMs: 1_000,
  lockRefreshMs: 300,
  standbyPollMs: 100,
  backoffInitialMs: 20,
  backoffMaxMs: 50,
} as const;

// Every line a worker logs carries its context (stream, consumer or group and member, and on
// the lines about a batch its ids and attempt): as fields for a logger with `write`, while a
// logger without it gets the same text (and stack) as before.
describe('structured log context', () => {
  let redstream: Redstream;
  let admin: Redis;
  const workers: (Consumer | GroupConsumer)[] = [];

  beforeEach(() => {
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace('logs'), logger: false });
    admin = connectTestRedis();
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await redstream.close();
    await admin.quit();
  });

  /** A consumer of `orders` that fails on every batch; a bad entry (no payload) first, then two messages. */
  async function failingConsumer(
    logger: RecordingLogger,
    stream = 'orders',
  ): Promise<{ badId: string; ids: string[] }> {
    const badId = (await admin.xadd(redstream.keys.stream(stream), '*', 'not-payload', 'x')) as string;
    const ids = await redstream.producer().queue(stream, [{ id: 1 }, { id: 2 }]);
    const consumer = redstream.consumer({
      stream,
      name: 'indexer',
      ...FAST,
      logger,
      handler: () => {
        throw new Error('search index down');
      },
    });
    workers.push(consumer);
    consumer.start();
    await waitFor(() => logger.matching('error', /handler failed/).length >= 2);
    return { badId, ids };
  }

  it('gives a recording logger the stream, consumer, ids and attempt of each line', async () => {
    const logger = new RecordingLogger();
    const { badId, ids } = await failingConsumer(logger);
    const context = { worker: 'consumer', stream: 'orders', consumer: 'indexer' };

    expect(logger.matching('log', /active, reading after/)[0].fields).toEqual(context);
    expect(logger.matching('warn', /skipping entry/)[0].fields).toEqual({ ...context, ids: badId });
    const failures = logger.matching('error', /handler failed/);
    expect(failures.slice(0, 2).map((line) => line.fields)).toEqual([
      { ...context, ids: `${ids[0]}..${ids[1]}`, attempt: 1 },
      { ...context, ids: `${ids[0]}..${ids[1]}`, attempt: 2 },
    ]);
    // The stack once, for the first of a run of the same error.
    expect(failures[0].params).toEqual([expect.stringContaining('Error: search index down\n')]);
    expect(failures[1].params).toEqual([]);
    // Every line of the worker has its context, none leaks another field.
    for (const line of logger.lines) expect(line.fields).toMatchObject(context);
  });

  it('gives a logger without write the same text and stack, and no fields', async () => {
    const structured = new RecordingLogger();
    const text = new RecordingLogger({ text: true });
    await failingConsumer(text, 'invoices');
    await failingConsumer(structured);

    const shape = (logger: RecordingLogger): string[] =>
      logger.lines.slice(0, 4).map(
        (line) =>
          `${line.level} ${line.message
            .replace(/\d+-\d+/g, '<id>')
            .replace('invoices', 'orders')
            .replace(/in \d+ ms/, 'in <n> ms')} ${line.params.length}`,
      );
    expect(shape(text)).toEqual(shape(structured));
    expect(text.lines.every((line) => line.fields === undefined)).toBe(true);
    expect(text.lines.flatMap((line) => line.params).every((param) => typeof param === 'string')).toBe(true);
    expect(text.matching('error', /handler failed/)[0].params).toEqual([
      expect.stringContaining('Error: search index down\n'),
    ]);
  });

  it('names the group and member on the lines of a group consumer', async () => {
    const logger = new RecordingLogger();
    const ids = await redstream.producer().queue('events', [{ id: 1 }, { id: 2 }, { id: 3 }]);
    const member = redstream.groupConsumer({
      stream: 'events',
      group: 'mailer',
      startAt: 'begin',
      blockMs: 200,
      backoffInitialMs: 20,
      backoffMaxMs: 50,
      logger,
      handler: () => {
        throw new Error('smtp down');
      },
    });
    workers.push(member);
    member.start();
    const failure = await waitFor(() => logger.matching('error', /handler failed/)[0]);

    expect(failure.fields).toEqual({
      worker: 'group-consumer',
      stream: 'events',
      group: 'mailer',
      member: member.member,
      ids: `${ids[0]}..${ids[2]}`,
      attempt: 1,
    });
  });

  it('reads as a line and serialises as fields', () => {
    const record = new RedstreamLogRecord('Consumer orders:indexer: handler failed', {
      stream: 'orders',
      consumer: 'indexer',
      ids: '1-0..2-0',
      attempt: 3,
      stack: 'Error: boom\n    at handler',
    });

    const line =
      'Consumer orders:indexer: handler failed (stream=orders consumer=indexer ids=1-0..2-0 attempt=3)\n' +
      'Error: boom\n    at handler';
    expect(inspect(record)).toBe(line);
    expect(String(record)).toBe(line);
    expect(String(new RedstreamLogRecord('no context'))).toBe('no context');
    expect(JSON.parse(JSON.stringify(record))).toEqual({
      msg: 'Consumer orders:indexer: handler failed',
      stream: 'orders',
      consumer: 'indexer',
      ids: '1-0..2-0',
      attempt: 3,
      stack: 'Error: boom\n    at handler',
    });
    // What a JSON logger that copies the object's fields (nestjs-pino) gets.
    expect({ ...record }).toEqual(JSON.parse(JSON.stringify(record)));
  });
});
