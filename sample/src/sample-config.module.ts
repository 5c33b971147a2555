import { DynamicModule, Global, Module } from '@nestjs/common';
import { SAMPLE_CONFIG, SampleConfig } from './sample-config';

/** Provides the {@link SampleConfig} everywhere, as `ConfigModule` would in a larger app. */
@Global()
@Module({})
export class SampleConfigModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: SampleConfigModule,
      providers: [{ provide: SAMPLE_CONFIG, useValue: config }],
      exports: [SAMPLE_CONFIG],
    };
  }
}
