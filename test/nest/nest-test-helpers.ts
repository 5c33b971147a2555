import type { ModuleMetadata, Provider } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { RedstreamModule, RedstreamModuleOptions } from '../../lib/nest';
import { FAST_WORKERS } from '../support/fast-workers';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';

export { FAST_WORKERS };

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
