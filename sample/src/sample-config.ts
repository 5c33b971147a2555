import { resolve } from 'node:path';
import { durationToMs } from '../../lib';

/** Injection token of the {@link SampleConfig}. */
export const SAMPLE_CONFIG = Symbol('SAMPLE_CONFIG');

/** Everything the sample app can be told; {@link sampleConfigFromEnv} reads it from the environment. */
export interface SampleConfig {
  /** Redis URL. */
  redisUrl: string;
  /** Key prefix in Redis, so the sample never touches another application's streams. */
  namespace: string;
  /** HTTP port and host. */
  port: number;
  host: string;
  /** Folder of the two database files, or undefined to keep both databases in memory. */
  dataDir: string | undefined;
  /** How long a delay message waits before the Delayer re-queues it, in ms. */
  delayMs: number;
  /** Every write skips its immediate message, as if the process died right after COMMIT. */
  demoFailure: boolean;
  /** How often the trimmer deletes entries every consumer has committed, in ms. */
  trimIntervalMs: number;
  /** Lock ttl of the consumer and the Delayer in ms (how fast a standby takes over). */
  lockTtlMs: number;
  /** Silences the library's log (the tests). */
  quiet: boolean;
}

function flag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

/**
 * Reads the configuration: `REDIS_URL`, `REDSTREAM_NAMESPACE` (default `redstream-sample`),
 * `PORT` (3000), `HOST` (127.0.0.1), `SAMPLE_DATA_DIR` (`sample/data` below the working directory; `memory` for no files),
 * `SAMPLE_DELAY` (`10s`), `DEMO_FAILURE` (off), `SAMPLE_TRIM_INTERVAL` (`30s`).
 */
export function sampleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  const dataDir = env.SAMPLE_DATA_DIR ?? resolve('sample', 'data');
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${env.PORT}`);
  return {
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    namespace: env.REDSTREAM_NAMESPACE ?? 'redstream-sample',
    port,
    host: env.HOST ?? '127.0.0.1',
    dataDir: dataDir === 'memory' ? undefined : dataDir,
    delayMs: durationToMs(env.SAMPLE_DELAY ?? '10s', 'SAMPLE_DELAY'),
    demoFailure: flag(env.DEMO_FAILURE),
    trimIntervalMs: durationToMs(env.SAMPLE_TRIM_INTERVAL ?? '30s', 'SAMPLE_TRIM_INTERVAL'),
    lockTtlMs: 5_000,
    quiet: false,
  };
}
