import { Catch, ExceptionFilter, Injectable, Logger, LoggerService, UseFilters } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { Producer, RedstreamConsumer, RedstreamMessage, RedstreamRegistry } from '../../lib';
import { waitFor } from '../support/test-redis';
import { compileRedstreamApp, RecordingLogger } from './nest-test-helpers';

/** Everything Nest's own Logger prints (e.g. its ExceptionsHandler), with the stacks. */
class NestLogRecorder implements LoggerService {
  readonly lines: string[] = [];
  log(...parts: unknown[]): void {
    this.record(parts);
  }
  error(...parts: unknown[]): void {
    this.record(parts);
  }
  warn(...parts: unknown[]): void {
    this.record(parts);
  }
  // NestJS 10's Logger.overrideLogger(levels) (the afterAll below) calls this unguarded.
  setLogLevels(): void {}
  private record(parts: unknown[]): void {
    this.lines.push(
      parts.map((part) => (part instanceof Error ? `${part.message}\n${part.stack}` : String(part))).join(' '),
    );
  }
}

@Catch()
class ObservingFilter implements ExceptionFilter {
  static seen = 0;
  catch(): void {
    ObservingFilter.seen++;
  }
}

@Injectable()
class PoisonHandlers {
  attempts = 0;
  filteredAttempts = 0;

  @RedstreamConsumer({ stream: 'poison', name: 'indexer' })
  index(): void {
    this.attempts++;
    throw new Error('poison message');
  }

  // A filter that returns nothing leaves the error to the worker, as if there were none.
  @RedstreamConsumer({ stream: 'poison', name: 'observed' })
  @UseFilters(ObservingFilter)
  observed(messages: RedstreamMessage[]): void {
    this.filteredAttempts += messages.length;
    throw new Error('observed poison');
  }
}

describe('RedstreamModule handler errors', () => {
  let app: TestingModule;
  const nestLogs = new NestLogRecorder();
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  afterEach(async () => {
    await app.close();
  });

  it('are reported by the worker, never by Nest, with or without a filter that returns nothing', async () => {
    const logger = new RecordingLogger();
    app = await compileRedstreamApp({ providers: [PoisonHandlers], options: { logger } });
    // After compile(), which installs the testing module's own logger.
    app.useLogger(nestLogs);
    await app.init();
    const handlers = app.get(PoisonHandlers);
    await app.get(Producer).queue('poison', { id: 1 });

    const attempts = 4;
    await waitFor(() => handlers.attempts >= attempts && handlers.filteredAttempts >= attempts);
    await app.get(RedstreamRegistry).stop();

    const failures = (name: string): string[] =>
      logger.errors.filter((line) => line.includes(`Consumer poison:${name}: handler failed`));
    // The worker reports the failures (at most a line per attempt; how is the engine's business).
    expect(failures('indexer').length).toBeGreaterThan(0);
    expect(failures('indexer').length).toBeLessThanOrEqual(handlers.attempts);
    expect(failures('observed').length).toBeGreaterThan(0);
    expect(ObservingFilter.seen).toBe(handlers.filteredAttempts);
    expect(nestLogs.lines.filter((line) => /poison|ExceptionsHandler|\n\s+at /.test(line))).toEqual([]);
  });
});
