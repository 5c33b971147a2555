import { Consumer, Delayer, GroupConsumer, RedstreamConfigError } from '../engine';
import { describeFailure } from '../engine/failure-reporter';
import { withTimeout } from '../engine/with-timeout';
import type { RedstreamRegistry } from '../nest';
import type {
  RedstreamHealthDetails,
  RedstreamHealthOptions,
  RedstreamHealthProblem,
} from './interfaces/redstream-health-options.interface';
import {
  CHECK_FAILED,
  DELAY_OVERDUE,
  GROUP_NOT_ACTIVE,
  INVALID_HEALTH_OPTION,
  LAG_AGE,
  LAG_ENTRIES,
  NO_OWNER,
  NOT_RUNNING,
  REDIS_TIMEOUT,
  STALLED,
} from './redstream-health.messages';

/** How long Redis may take to answer a health check's reads unless the caller says otherwise. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 1_000;

type HandlerWorker = Consumer | Delayer | GroupConsumer;

interface ResolvedHealthOptions {
  timeoutMs: number;
  maxLagEntries?: number;
  maxLagMs?: number;
}

class HealthTimeoutError extends Error {}

/**
 * Checks Redstream in this process: Redis answers a PING; every enabled handler is active, or
 * a hot standby of an owner whose lock is alive in Redis; no worker is stalled; and, when the
 * caller sets thresholds, no handler is further behind than they allow. Never throws for what
 * it finds: every problem is named in the details.
 */
export async function inspectRedstreamHealth(
  registry: RedstreamRegistry,
  options: RedstreamHealthOptions = {},
): Promise<RedstreamHealthDetails> {
  const resolved = resolveHealthOptions(options);
  const running = registry.handlerEntries().flatMap(({ worker, options }) => (worker ? [{ worker, options }] : []));
  const redis = await ping(registry, resolved.timeoutMs);
  const counts = { total: running.length, active: 0, standby: 0 };
  const failing: RedstreamHealthProblem[] = [];
  await Promise.all(
    running.map(async ({ worker, options: { kind, stream, name } }) => {
      const reasons: string[] = [];
      if (worker.isStalled) reasons.push(STALLED(worker.stalledSince));
      // Without Redis, neither the lock's owner nor the lag can be read: the PING says it all.
      if (redis.reachable) {
        try {
          const state = await withinTimeout(ownership(worker), resolved.timeoutMs);
          if (state === 'active') counts.active++;
          else if (state === 'standby') counts.standby++;
          else reasons.push(state);
          reasons.push(...(await withinTimeout(lagReasons(registry, worker, resolved), resolved.timeoutMs)));
        } catch (error) {
          reasons.push(CHECK_FAILED(describeFailure(error)));
        }
      } else if (worker.isActive) counts.active++;
      if (reasons.length > 0) failing.push({ kind, stream, name, reasons });
    }),
  );
  for (const trimmer of registry.trimmers()) {
    if (trimmer.isStalled) {
      failing.push({
        kind: 'trimmer',
        stream: trimmer.stream,
        name: 'trimmer',
        reasons: [STALLED(trimmer.stalledSince)],
      });
    }
  }
  failing.sort((a, b) => `${a.stream}:${a.name}`.localeCompare(`${b.stream}:${b.name}`));
  return { redis, handlers: counts, failing };
}

/** True when nothing in the details fails the check. */
export function isHealthy(details: RedstreamHealthDetails): boolean {
  return details.redis.reachable && details.failing.length === 0;
}

function resolveHealthOptions(options: RedstreamHealthOptions): ResolvedHealthOptions {
  const positive = (name: keyof RedstreamHealthOptions): number | undefined => {
    const value = options[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !(value > 0)) throw new RedstreamConfigError(INVALID_HEALTH_OPTION(name, value));
    return value;
  };
  return {
    timeoutMs: positive('timeoutMs') ?? DEFAULT_HEALTH_TIMEOUT_MS,
    maxLagEntries: positive('maxLagEntries'),
    maxLagMs: positive('maxLagMs'),
  };
}

async function ping(registry: RedstreamRegistry, timeoutMs: number): Promise<RedstreamHealthDetails['redis']> {
  const startedAt = performance.now();
  try {
    await withinTimeout(registry.redstream.client.ping(), timeoutMs);
    return { reachable: true, pingMs: Math.round((performance.now() - startedAt) * 10) / 10 };
  } catch (error) {
    return { reachable: false, error: describeFailure(error) };
  }
}

function withinTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  return withTimeout(work, timeoutMs, () => {
    throw new HealthTimeoutError(REDIS_TIMEOUT(timeoutMs));
  });
}

/** `active`, `standby` (another live instance holds the lock), or why neither. */
async function ownership(worker: HandlerWorker): Promise<'active' | 'standby' | string> {
  if (!worker.isRunning) return NOT_RUNNING();
  if (worker.isActive) return 'active';
  // A group member has no owner to stand by for: every member works.
  if (worker instanceof GroupConsumer) return GROUP_NOT_ACTIVE();
  switch (await worker.lockHolder()) {
    case 'other':
      return 'standby';
    // Taken, and loading its offset: active in a moment (or failing, which stalls it).
    case 'self':
      return 'active';
    default:
      return NO_OWNER();
  }
}

async function lagReasons(
  registry: RedstreamRegistry,
  worker: HandlerWorker,
  { maxLagEntries, maxLagMs }: ResolvedHealthOptions,
): Promise<string[]> {
  if (maxLagEntries === undefined && maxLagMs === undefined) return [];
  const { redstream } = registry;
  if (worker instanceof Delayer) {
    // Delay messages wait `delay` by design, and their count follows the write rate: only
    // the time past due is a lag.
    if (maxLagMs === undefined) return [];
    const backlog = await redstream.delayBacklog(worker.stream);
    const overdueMs = backlog.entries > 0 ? backlog.oldestAgeMs - worker.delayMs : 0;
    return overdueMs > maxLagMs ? [DELAY_OVERDUE(overdueMs, maxLagMs)] : [];
  }
  // Counting stops soon after the threshold: beyond it, exactly how far matters less than the cost.
  const lagOptions = maxLagEntries === undefined ? {} : { maxCount: Math.ceil(maxLagEntries) };
  const lag =
    worker instanceof GroupConsumer
      ? await redstream.groupLag(worker.stream, worker.group, lagOptions)
      : await redstream.lag(worker.stream, worker.name, lagOptions);
  // A group not created yet has nothing waiting for it.
  if (!lag) return [];
  const reasons: string[] = [];
  if (maxLagEntries !== undefined && lag.entries > maxLagEntries)
    reasons.push(LAG_ENTRIES(lag.entries, lag.exact, maxLagEntries));
  if (maxLagMs !== undefined && lag.oldestAgeMs > maxLagMs) reasons.push(LAG_AGE(lag.oldestAgeMs, maxLagMs));
  return reasons;
}
