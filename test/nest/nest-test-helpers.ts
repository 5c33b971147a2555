import type { ModuleMetadata, Provider } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import type { RedstreamLogger } from '../../lib/engine';
import { RedstreamModule, RedstreamModuleOptions } from '../../lib/nest';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';

/** Short timings so that tests take seconds: takeover, backoff and shutdown are all quick. */
export const FAST_WORKERS = {
  blockMs: 500,
  lockTtlMs: 1_000,
  lockRefreshMs: 300,
  standbyPollMs: 100,
  backoffInitialMs: 50,
  backoffMaxMs: 500,
} as const;

/** Collects log lines so that tests can assert on warnings and errors. */
export class RecordingLogger implements RedstreamLogger {
  readonly lines: { level: 'log' | 'warn' | 'error'; message: string }[] = [];
  log(message: string): void {
    this.lines.push({ level: 'log', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }
  debug(): void {}
  messages(level: 'log' | 'warn' | 'error'): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

export interface TestAppOptions {
  providers?: Provider[];
  imports?: ModuleMetadata['imports'];
  options?: RedstreamModuleOptions;
}

/** A compiled (not yet initialised) testing module with RedstreamModule on the test Redis. */
export function compileRedstreamApp({
  providers = [],
  imports = [],
  options = {},
}: TestAppOptions): Promise<TestingModule> {
  return Test.createTestingModule({
    imports: [
      RedstreamModule.forRoot({
        redis: testRedisUrl(),
        namespace: uniqueNamespace('nest'),
        logger: false,
        ...options,
        consumerDefaults: { ...FAST_WORKERS, ...options.consumerDefaults },
      }),
      ...imports,
    ],
    providers,
  }).compile();
}
