import { readFileSync } from 'node:fs';
import { ConsoleLogger, INestApplication, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';
import { Producer, RedstreamConsumer, RedstreamModule } from '../../lib';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { FAST_WORKERS } from './nest-test-helpers';

@Injectable()
class FailingIndexer {
  @RedstreamConsumer({ stream: 'orders', name: 'indexer' })
  index(): void {
    throw new Error('search index down');
  }
}

/**
 * ConsoleLogger's options object (`colors`, `json`) is NestJS 11's: NestJS 10's takes a context
 * first and has neither, so those tests skip themselves there (jest.nest10.config.js).
 */
const nestMajor = Number(
  (
    JSON.parse(readFileSync(require.resolve('@nestjs/common/package.json'), 'utf8')) as { version: string }
  ).version.split('.')[0],
);
const itWithConsoleLoggerOptions = nestMajor >= 11 ? it : it.skip;

/**
 * What this process writes to stdout and stderr from now on, kept off the terminal until
 * `jest.restoreAllMocks()`.
 */
function captureConsoleOutput(): string[] {
  const written: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  }
  return written;
}

/** An app with RedstreamModule's default logger (Nest's `Logger`), bootstrapped with `logger` as the app's. */
async function startApp(
  useLogger: (app: INestApplication) => void,
  imports: Parameters<typeof Test.createTestingModule>[0]['imports'] = [],
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...(imports ?? []),
      RedstreamModule.forRoot({
        redis: testRedisUrl(),
        namespace: uniqueNamespace('logs'),
        consumerDefaults: FAST_WORKERS,
        drainTimeoutMs: 1_000,
      }),
    ],
    providers: [FailingIndexer],
  }).compile();
  const app = moduleRef.createNestApplication({ bufferLogs: true });
  useLogger(app);
  await app.init();
  return app;
}

// Nest's Logger (the module's default) gets each engine line as a record: nestjs-pino writes its
// context as JSON fields, Nest's ConsoleLogger prints it as a readable line.
describe('structured log lines through Nest loggers', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    jest.restoreAllMocks();
  });

  it('nestjs-pino writes JSON lines with msg, stream, consumer, ids and attempt', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = { write: (chunk: string) => void lines.push(JSON.parse(chunk) as Record<string, unknown>) };
    app = await startApp(
      (created) => created.useLogger(created.get(PinoNestLogger)),
      [LoggerModule.forRoot({ pinoHttp: [{ level: 'debug' }, destination] })],
    );
    const [id] = await app.get(Producer).queue('orders', { id: 1 });

    const failures = await waitFor(() => {
      const found = lines.filter((line) => /handler failed/.test(String(line.msg)));
      return found.length >= 2 ? found : undefined;
    });

    expect(failures[0]).toMatchObject({
      level: 50,
      context: 'Redstream',
      msg: expect.stringMatching(/^Consumer orders:indexer: handler failed on 1 messages \S+ \(attempt 1\)/),
      worker: 'consumer',
      stream: 'orders',
      consumer: 'indexer',
      ids: id,
      attempt: 1,
      stack: expect.stringContaining('Error: search index down'),
    });
    expect(failures[1]).toMatchObject({ ids: id, attempt: 2 });
    const active = lines.find((line) => /active, reading after/.test(String(line.msg)));
    expect(active).toMatchObject({ level: 30, context: 'Redstream', stream: 'orders', consumer: 'indexer' });
  });

  itWithConsoleLoggerOptions(
    "Nest's ConsoleLogger prints a readable line with the context, then the stack",
    async () => {
      const written = captureConsoleOutput();
      app = await startApp((created) => created.useLogger(new ConsoleLogger({ colors: false })));
      const [id] = await app.get(Producer).queue('orders', { id: 1 });

      const failure = await waitFor(() => written.find((line) => line.includes('handler failed')));
      jest.restoreAllMocks();

      const [first, ...stack] = failure.trimEnd().split('\n');
      const escapedId = id.replace('-', '\\-');
      expect(first).toMatch(
        new RegExp(
          String.raw`ERROR \[Redstream\] Consumer orders:indexer: handler failed on 1 messages ${escapedId}\.\.${escapedId} ` +
            String.raw`\(attempt 1\): search index down; retrying the same batch in \d+ ms ` +
            String.raw`\(worker=consumer stream=orders consumer=indexer ids=${escapedId} attempt=1\)$`,
        ),
      );
      expect(stack[0]).toBe('Error: search index down');
    },
  );

  itWithConsoleLoggerOptions("Nest's ConsoleLogger in JSON mode keeps the fields under message", async () => {
    const written = captureConsoleOutput();
    app = await startApp((created) => created.useLogger(new ConsoleLogger({ json: true, colors: false })));
    const [id] = await app.get(Producer).queue('orders', { id: 1 });

    const failure = await waitFor(() => written.find((line) => line.includes('handler failed')));
    jest.restoreAllMocks();

    expect(JSON.parse(failure)).toMatchObject({
      level: 'error',
      context: 'Redstream',
      message: { worker: 'consumer', stream: 'orders', consumer: 'indexer', ids: id, attempt: 1 },
    });
  });
});
