import type * as OpenTelemetryApi from '@opentelemetry/api';

/** The `@opentelemetry/api` module, as this package uses it. */
export type OpenTelemetryApiModule = typeof OpenTelemetryApi;

let loaded: { api: OpenTelemetryApiModule | undefined } | undefined;

/**
 * The one place that loads `@opentelemetry/api`, an optional peer: undefined when it is not
 * installed (or fails to load), and then nothing is recorded. Loaded on first use, not at
 * import, so that an application without it pays nothing and breaks nowhere.
 */
export function loadOpenTelemetryApi(): OpenTelemetryApiModule | undefined {
  if (!loaded) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = { api: require('@opentelemetry/api') as OpenTelemetryApiModule };
    } catch {
      loaded = { api: undefined };
    }
  }
  return loaded.api;
}
