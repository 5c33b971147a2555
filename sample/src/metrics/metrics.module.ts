import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { sampleMetricsExporter } from './sample-metrics';

/** Serves `GET /metrics`; importing it registers the OpenTelemetry MeterProvider (see sampleMetricsExporter). */
@Module({ controllers: [MetricsController] })
export class MetricsModule {
  static register(): typeof MetricsModule {
    // Now, while AppModule.register() builds the module tree: before RedstreamModule creates its Redstream.
    sampleMetricsExporter();
    return MetricsModule;
  }
}
