import { RedisConnection, Redstream, RedstreamMessage } from '../../lib/engine';
import { FailureReporter } from '../../lib/engine/failure-reporter';
import { freePort } from '../support/redis-server';
import { LogLine, RecordingLogger } from '../support/recording-logger';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

/** Lines that carried a stack trace after the message. */
const withStack = (lines: LogLine[]): LogLine[] =>
  lines.filter((line) => line.params.some((param) => typeof param === 'string' && /\n\s+at /.test(param)));

// A poison message or a Redis outage makes a worker fail again and again; the log must say so
// once per failure in one line, print a stack only when the error is new, and sum up now and
// then, instead of a stack per retry.
describe('failure logging', () => {
  describe('FailureReporter', () => {
    let logger: RecordingLogger;
    let now: number;
    let reporter: FailureReporter;
    const fail = (error: unknown): void =>
      reporter.failed(error, (attempt, reason) => `step failed (attempt ${attempt}): ${reason}`);

    beforeEach(() => {
      logger = new RecordingLogger();
      now = Date.UTC(2024, 0, 1, 12, 0, 0);
      reporter = new FailureReporter(logger, 'Worker w', () => now);
    });

    it('logs one line per failure, the stack once, and a summary at 10 and 100 failures in a row', () => {
      const error = new Error('index unavailable');
      for (let i = 0; i < 120; i++) {
        fail(error);
        now += 1_000 / 3; // 40 s in all: the minute rule stays out of it
      }
      const failures = logger.matching('error', /^Worker w: step failed/);
      expect(failures).toHaveLength(120);
      expect(failures.map((line) => Number(/attempt (\d+)/.exec(line.message)?.[1]))).toEqual(
        Array.from({ length: 120 }, (_, index) => index + 1),
      );
      expect(withStack(logger.lines)).toEqual([failures[0]]);
      expect(logger.matching('error', /still failing/).map((line) => line.message)).toEqual([
        'Worker w: still failing after 10 attempts since 2024-01-01T12:00:00.000Z: index unavailable',
        'Worker w: still failing after 100 attempts since 2024-01-01T12:00:00.000Z: index unavailable',
      ]);
      expect(logger.lines).toHaveLength(122);
    });

    it('sums up at least once a minute while failures go on', () => {
      const error = new Error('down');
      for (let i = 0; i < 9; i++) {
        fail(error);
        now += 25_000;
      }
      // failures at 0, 25, 50, 75 (a minute after the start), 100, 125, 150 (a minute later)...
      expect(logger.matching('error', /still failing/).map((line) => /after (\d+)/.exec(line.message)?.[1])).toEqual([
        '4',
        '7',
      ]);
    });

    it('prints the stack again when the error changes, and after a success', () => {
      const first = new Error('first');
      const second = new Error('second');
      fail(first);
      fail(first);
      fail(second);
      fail(second);
      fail(first);
      reporter.succeeded();
      fail(first);
      expect(withStack(logger.lines).map((line) => line.message)).toEqual([
        'Worker w: step failed (attempt 1): first',
        'Worker w: step failed (attempt 3): second',
        'Worker w: step failed (attempt 5): first',
        'Worker w: step failed (attempt 1): first',
      ]);
      expect(reporter.attempts).toBe(1);
    });

    it('names a thrown non-Error and logs no stack for it', () => {
      fail('just a string');
      expect(logger.lines).toEqual([
        {
          level: 'error',
          message: 'Worker w: step failed (attempt 1): a non-Error was thrown: just a string',
          params: [],
          fields: { attempt: 1 },
        },
      ]);
    });
  });

  describe('engine workers', () => {
    const engines: Redstream[] = [];
    afterEach(async () => {
      await Promise.all(engines.splice(0).map((engine) => engine.close({ drainTimeoutMs: 1_000 })));
    });
    const engine = (redis: RedisConnection, logger: RecordingLogger): Redstream => {
      const created = new Redstream({ redis, namespace: uniqueNamespace('logging'), logger });
      engines.push(created);
      return created;
    };

    it('a poison batch: one line per attempt with the id range, one stack, summaries, for 30 attempts', async () => {
      const logger = new RecordingLogger();
      const redstream = engine(testRedisUrl(), logger);
      const ids = await redstream.producer().queue('products', [{ id: 1 }, { id: 2 }]);
      const attempts: RedstreamMessage[][] = [];
      const consumer = redstream.consumer({
        stream: 'products',
        name: 'indexer',
        backoffInitialMs: 1,
        backoffMaxMs: 2,
        handler: (messages) => {
          attempts.push(messages);
          throw new Error('poison');
        },
      });
      let failures = 0;
      consumer.on('failed', () => failures++);
      consumer.start();
      await waitFor(() => failures >= 30);
      await consumer.stop();

      const lines = logger.matching('error', /handler failed/);
      expect(lines).toHaveLength(failures);
      lines.forEach((line, index) =>
        expect(line.message).toBe(
          `Consumer products:indexer: handler failed on 2 messages ${ids[0]}..${ids[1]} (attempt ${index + 1}): ` +
            `poison; retrying the same batch in ${/in (\d+) ms$/.exec(line.message)?.[1]} ms`,
        ),
      );
      expect(withStack(logger.lines)).toEqual([lines[0]]);
      expect(logger.matching('error', /still failing after 10 attempts since .*: poison$/)).toHaveLength(1);
      expect(logger.errors).toHaveLength(failures + 1);
      expect(await redstream.committedOffset('products', 'indexer')).toBeNull();
    });

    it('Redis down: the loop logs one line per retry with its attempt, and no stack per retry', async () => {
      const logger = new RecordingLogger();
      // Reconnecting every 10 ms, each command fails within a few dozen ms.
      const redstream = engine({ host: '127.0.0.1', port: await freePort(), retryStrategy: () => 10 }, logger);
      const consumer = redstream.consumer({
        stream: 'products',
        name: 'indexer',
        backoffInitialMs: 5,
        backoffMaxMs: 10,
        handler: () => undefined,
      });
      let failures = 0;
      consumer.on('failed', () => failures++);
      consumer.start();
      await waitFor(() => failures >= 12, 20_000);
      await consumer.stop();

      const lines = logger.matching('error', /^Consumer products:indexer: .* \(attempt \d+\); retrying in \d+ ms$/);
      expect(lines.length).toBeGreaterThanOrEqual(12);
      expect(lines.map((line) => Number(/attempt (\d+)/.exec(line.message)?.[1]))).toEqual(
        Array.from({ length: lines.length }, (_, index) => index + 1),
      );
      // ioredis fails in a few distinct ways while it reconnects; each gets its stack once in a row.
      const distinctInARow = lines.filter(
        (line, index) =>
          index === 0 || line.message.split(' (attempt')[0] !== lines[index - 1].message.split(' (attempt')[0],
      );
      expect(withStack(lines).length).toBeLessThanOrEqual(distinctInARow.length);
      expect(withStack(lines).length).toBeLessThan(lines.length / 2);
      expect(logger.matching('error', /^Consumer products:indexer: still failing after 10 attempts/)).toHaveLength(1);
    });
  });
});
