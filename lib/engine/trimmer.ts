import { BackgroundWorker, BackgroundWorkerEvents } from './background-worker';
import { durationToMs } from './duration';
import type { TrimmerOptions, TrimPlan, TrimResult } from './interfaces/trimmer-options.interface';
import { createStreamLock, singleOwnerSetup } from './leases/single-owner-lease';
import { RedisClient, sendKeyed } from './redis-connection';
import { RedstreamContext, resolveLogger } from './redstream-context';
import { trimmerLockName, validateConsumerName, validateGroupName, validateStreamName } from './redstream-keys';
import { RedstreamConfigError } from './errors';
import { planTrimBelowReaders, trimBelowReaders } from './group-trim';
import { DEFAULT_TRIM_INTERVAL_MS } from './redstream-defaults';
import { countRange } from './stream-count';
import type { StreamLock } from './stream-lock';
import { resolveWorkerOptions } from './worker-defaults';
import { NO_TELEMETRY, WorkerTelemetry } from './telemetry/redstream-telemetry';

/** Events of a Trimmer's loop (`start()`), for observability and tests. */
export interface TrimmerEvents extends BackgroundWorkerEvents {
  /** This instance took the `trimmer:<stream>` lock and trims every interval now. */
  active: [];
}

const MAX_REGISTRY_RETRIES = 5;

function names(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RedstreamConfigError(`${what} must be an array of names`);
  return value;
}

/**
 * Deletes the entries of a stream that every consumer has committed: everything up to and
 * including the numerically smallest committed offset. On a stream with consumer groups (or
 * `groupNames`), also nothing at or above any group's oldest pending entry and nothing after
 * its last-delivered id: groups and offset consumers may share a stream. It never deletes an entry that a
 * known consumer has not committed, and trims nothing while a known consumer has no offset
 * yet (so a consumer added later still gets the whole stream). HA with the gem's
 * `trimmer:<stream>` lock: while started, one trimmer per stream is active and trims every
 * interval, the others stand by; `trimOnce()` takes the lock for one run.
 */
export class Trimmer extends BackgroundWorker<TrimmerEvents> {
  readonly stream: string;
  readonly intervalMs: number;
  private readonly client: RedisClient;
  private readonly lock: StreamLock;
  private readonly consumerNames: string[];
  private readonly groupNames: string[];
  private readonly telemetry: WorkerTelemetry;

  constructor(
    private readonly context: RedstreamContext,
    options: TrimmerOptions,
  ) {
    const stream = validateStreamName(options.stream);
    const label = `Trimmer ${stream}`;
    const resolved = resolveWorkerOptions(options, label);
    const intervalMs = durationToMs(options.interval ?? DEFAULT_TRIM_INTERVAL_MS, `${label}: interval`);
    const consumerNames = (options.consumerNames ?? []).map(validateConsumerName);
    const groupNames = names(options.groupNames, `${label}: groupNames`).map(validateGroupName);
    const logger = resolveLogger(options.logger, `${label}: logger`, context.logger);
    const client = context.connections.client();
    const lock = createStreamLock(context, trimmerLockName(stream), resolved);
    super(singleOwnerSetup(context, label, logger, lock, resolved, { worker: 'trimmer', stream }));
    this.stream = stream;
    this.intervalMs = intervalMs;
    this.consumerNames = consumerNames;
    this.groupNames = [...new Set(groupNames)].sort();
    this.client = client;
    this.lock = lock;
    this.telemetry = (context.telemetry ?? NO_TELEMETRY).worker('trimmer', stream, '', this);
  }

  /** The registered consumer names plus the configured ones, sorted. */
  async consumers(): Promise<string[]> {
    const registered = await this.client.smembers(this.context.keys.consumerRegistry(this.stream));
    return [...new Set([...registered, ...this.consumerNames])].sort();
  }

  /** Trims once if this instance gets the lock. */
  async trimOnce(): Promise<TrimResult> {
    const result = await this.trimOnceUntracked();
    this.telemetry.trimmed(result.trimmed);
    return result;
  }

  private async trimOnceUntracked(): Promise<TrimResult> {
    for (let attempt = 1; ; attempt++) {
      const consumers = await this.consumers();
      if (!(await this.lock.tryAcquire())) return { trimmed: 0, skipped: 'locked', consumers };
      if (await this.hasNoReaders(consumers)) return { trimmed: 0, skipped: 'no-consumers', consumers };
      const result = await trimBelowReaders(this.client, this.context.keys, this.stream, {
        consumers,
        requiredGroups: this.groupNames,
      });
      if ('skipped' in result) {
        if (result.skipped === 'registry-changed' && attempt < MAX_REGISTRY_RETRIES) continue;
        return { trimmed: 0, skipped: result.skipped, consumers };
      }
      if (result.trimmed > 0) this.logger.debug?.(`${this.label}: deleted ${result.trimmed} entries no reader needs`);
      return result.trimmed === 0
        ? { trimmed: 0, skipped: 'nothing-committed', consumers }
        : { trimmed: result.trimmed, consumers };
    }
  }

  /**
   * What `trimOnce()` would delete now, deleting nothing and taking no lock: the count of
   * entries and their id range, from the same bound as a trim (the trim script in its dry-run
   * mode). The entries are counted inside Redis, 10,000 per call; `onCount` hears the count so
   * far after each call (a long count's progress).
   */
  async plan(options: { onCount?: (counted: number) => void } = {}): Promise<TrimPlan> {
    for (let attempt = 1; ; attempt++) {
      const consumers = await this.consumers();
      if (await this.hasNoReaders(consumers)) return { entries: 0, skipped: 'no-consumers', consumers };
      const plan = await planTrimBelowReaders(this.client, this.context.keys, this.stream, {
        consumers,
        requiredGroups: this.groupNames,
      });
      if ('skipped' in plan) {
        if (plan.skipped === 'registry-changed' && attempt < MAX_REGISTRY_RETRIES) continue;
        return { entries: 0, skipped: plan.skipped, consumers };
      }
      if (plan.bound === undefined) return { entries: 0, skipped: 'nothing-committed', consumers };
      const end = plan.inclusive ? plan.bound : `(${plan.bound}`;
      const key = this.context.keys.stream(this.stream);
      const counted = await countRange(this.client, key, '-', end, Number.MAX_SAFE_INTEGER, options.onCount);
      if (counted.count === 0) return { entries: 0, skipped: 'nothing-committed', consumers };
      return { entries: counted.count, firstId: counted.firstId, lastId: counted.lastId, consumers };
    }
  }

  /** Runs `trimOnce()` every interval, then sleeps; `start()` and `stop()` as for every worker. */
  protected override async step(): Promise<void> {
    await this.untilStopped(this.trimOnce());
    await this.sleep(this.intervalMs);
  }

  protected override announceActive(): void {
    this.logger.log(`${this.label}: active, trimming every ${this.intervalMs} ms`);
    this.emit('active');
  }

  // The stream's groups are asked for only without offset consumers: otherwise the trim
  // script reads them itself, and a round trip per trim is saved.
  private async hasNoReaders(consumers: readonly string[]): Promise<boolean> {
    return consumers.length === 0 && this.groupNames.length === 0 && !(await this.streamHasGroups());
  }

  /** True when the stream has consumer groups (false when it does not exist). */
  private async streamHasGroups(): Promise<boolean> {
    try {
      const streamKey = this.context.keys.stream(this.stream);
      return ((await sendKeyed(this.client, 'xinfo', streamKey, ['GROUPS', streamKey])) as unknown[]).length > 0;
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return false;
      throw error;
    }
  }

  /** Removes a consumer name from the stream's registry, e.g. after decommissioning a consumer. */
  async forgetConsumer(name: string): Promise<void> {
    await this.client.srem(this.context.keys.consumerRegistry(this.stream), validateConsumerName(name));
  }
}
