import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

let exporter: PrometheusExporter | undefined;

/**
 * The process's Prometheus exporter, registered as the global MeterProvider's reader on first
 * call. It must run before RedstreamModule creates its Redstream: instrumentations take their
 * meter from the provider registered then (a later registration would find them no-ops).
 * `preventServerStart`: the Nest app serves `GET /metrics` itself, on its own port.
 */
export function sampleMetricsExporter(): PrometheusExporter {
  if (!exporter) {
    exporter = new PrometheusExporter({ preventServerStart: true });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  }
  return exporter;
}
