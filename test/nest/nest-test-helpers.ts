import type { ModuleMetadata, Provider } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
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

export { RecordingLogger } from '../support/recording-logger';

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
