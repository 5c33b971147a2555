import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RedstreamModule } from '../../lib';
import { RedstreamDashboardModule } from '../../lib/dashboard';
import { RedstreamTypeOrmModule } from '../../lib/typeorm';
import { MetricsModule } from './metrics/metrics.module';
import { primaryDatabaseOptions } from './database/primary-database.options';
import { HealthModule } from './health/health.module';
import { ProductsModule } from './products/products.module';
import { PRODUCTS_STREAM } from './products/products.constants';
import { SAMPLE_CONFIG, SampleConfig } from './sample-config';
import { SampleConfigModule } from './sample-config.module';
import { SearchModule } from './search/search.module';
import { StatusController } from './status/status.controller';

/** The sample app: products in a primary database, kept searchable in a second one through Redis streams. */
@Module({})
export class AppModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // First: it registers the OpenTelemetry MeterProvider that GET /metrics reads.
        MetricsModule.register(),
        SampleConfigModule.register(config),
        TypeOrmModule.forRootAsync({ inject: [SAMPLE_CONFIG], useFactory: primaryDatabaseOptions }),
        // forRootAsync, as an app that reads its settings from a ConfigService would do it.
        RedstreamModule.forRootAsync({
          inject: [SAMPLE_CONFIG],
          useFactory: (sample: SampleConfig) => ({
            redis: sample.redisUrl,
            namespace: sample.namespace,
            ...(sample.quiet ? { logger: false as const } : {}),
            consumerDefaults: {
              lockTtlMs: sample.lockTtlMs,
              lockRefreshMs: Math.floor(sample.lockTtlMs * 0.6),
            },
            trimmer: { schedule: sample.trimIntervalMs },
            handlers: { [`${PRODUCTS_STREAM}:delayer`]: { delay: sample.delayMs } },
          }),
        }),
        // Attaches the RedstreamSubscriber to TypeORM's DataSource: every save() and remove()
        // of the @RedstreamEntity Product writes its messages with RedstreamModule's Producer.
        RedstreamTypeOrmModule.forRoot(),
        // The streams at a glance on http://localhost:3000/redstream, read-only: an application
        // that allows replay and rewind there passes readOnly: false and a guard of its own.
        RedstreamDashboardModule.forRoot({ path: '/redstream' }),
        ProductsModule,
        SearchModule,
        HealthModule,
      ],
      controllers: [StatusController],
    };
  }
}
