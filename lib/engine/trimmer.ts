import { abortableSleep } from './abortable-sleep';
import { Backoff } from './backoff';
import { durationToMs } from './duration';
import type { RedstreamLogger } from './interfaces/redstream-logger.interface';
import type { TrimmerOptions, TrimResult } from './interfaces/trimmer-options.interface';
import type { RedisClient } from './redis-connection';
import type { RedstreamContext } from './redstream-context';
import { trimmerLockName, validateConsumerName, validateStreamName } from './redstream-keys';
import { DEFAULT_TRIM_INTERVAL_MS } from './redstream-defaults';
import { scripts } from './scripts';
import { StreamLock } from './stream-lock';
import { resolveWorkerOptions } from './worker-defaults';

const MAX_REGISTRY_RETRIES = 5;

/**
 * Deletes the entries of a stream that every consumer has committed: everything up to and
 * including the numerically smallest committed offset. It never deletes an entry that a
 * known consumer has not committed, and trims nothing while a known consumer has no offset
 * yet (so a consumer added later still gets the whole stream). HA with the gem's
 * `trimmer:<stream>` lock: concurrent trimmers on several hosts do not overlap.
 */
export class Trimmer {
  readonly stream: string;
  readonly intervalMs: number;
  private readonly client: RedisClient;
  private readonly lock: StreamLock;
  private readonly logger: RedstreamLogger;
  private readonly consumerNames: string[];
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private running?: Promise<void>;
  private stopped?: Promise<void>;

  constructor(
    private readonly context: RedstreamContext,
    options: TrimmerOptions,
  ) {
    this.stream = validateStreamName(options.stream);
    const label = `Trimmer ${this.stream}`;
    const resolved = resolveWorkerOptions(options, label);
    this.intervalMs = durationToMs(options.interval ?? DEFAULT_TRIM_INTERVAL_MS, `${label}: interval`);
    this.consumerNames = (options.consumerNames ?? []).map(validateConsumerName);
    this.client = context.connections.client();
    this.logger = options.logger ?? context.logger;
    const lockKey = context.keys.lock(trimmerLockName(this.stream));
    this.lock = new StreamLock(this.client, lockKey, context.keys.notify(lockKey), {
      ttlMs: resolved.lockTtlMs,
      refreshMs: resolved.lockRefreshMs,
    });
    this.backoff = new Backoff({ initialMs: resolved.backoffInitialMs, maxMs: resolved.backoffMaxMs });
  }

  /** The registered consumer names plus the configured ones, sorted. */
  async consumers(): Promise<string[]> {
    const registered = await this.client.smembers(this.context.keys.consumerRegistry(this.stream));
    return [...new Set([...registered, ...this.consumerNames])].sort();
  }

  /** Trims once if this instance gets the lock. */
  async trimOnce(): Promise<TrimResult> {
    const registry = this.context.keys.consumerRegistry(this.stream);
    for (let attempt = 1; ; attempt++) {
      const consumers = await this.consumers();
      if (!(await this.lock.tryAcquire())) return { trimmed: 0, skipped: 'locked', consumers };
      if (consumers.length === 0) return { trimmed: 0, skipped: 'no-consumers', consumers };
      const offsetKeys = consumers.map((name) => this.context.keys.offset(this.stream, name));
      const trimmed = Number(
        await scripts.trimCommitted.run(
          this.client,
          [this.context.keys.stream(this.stream), registry, ...offsetKeys],
          consumers,
        ),
      );
      // -2: a consumer registered after the registry was read; read it again.
      if (trimmed === -2) {
        if (attempt < MAX_REGISTRY_RETRIES) continue;
        return { trimmed: 0, skipped: 'registry-changed', consumers };
      }
      if (trimmed === -1) return { trimmed: 0, skipped: 'consumer-without-offset', consumers };
      if (trimmed > 0) this.logger.debug?.(`Trimmer ${this.stream}: deleted ${trimmed} committed entries`);
      return trimmed === 0 ? { trimmed, skipped: 'nothing-committed', consumers } : { trimmed, consumers };
    }
  }

  /** Runs `trimOnce()` every `interval` until `stop()`; errors are logged and retried with backoff. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = (async () => {
      while (!this.abort.signal.aborted) {
        let sleepMs = this.intervalMs;
        try {
          await this.trimOnce();
          this.backoff.reset();
        } catch (error) {
          sleepMs = this.backoff.next();
          this.logger.error(`Trimmer ${this.stream}: ${(error as Error).message}; retrying in ${sleepMs} ms`);
        }
        await abortableSleep(sleepMs, this.abort.signal);
      }
    })();
  }

  /** Stops the loop and releases the lock. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.abort.abort();
      await this.running;
      await this.lock.release();
    })();
    return this.stopped;
  }

  /** Removes a consumer name from the stream's registry, e.g. after decommissioning a consumer. */
  async forgetConsumer(name: string): Promise<void> {
    await this.client.srem(this.context.keys.consumerRegistry(this.stream), validateConsumerName(name));
  }
}
