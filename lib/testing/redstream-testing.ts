import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import {
  Consumer,
  GroupConsumer,
  Redstream,
  RedstreamConfigError,
  RedstreamKeys,
  validateNamespace,
  validateStreamName,
} from '../engine';
import type { RedisClient } from '../engine';
import { positiveMs } from '../engine/option-validation';
import { compareStreamIds } from '../engine/stream-id';
import { RedstreamRegistry } from '../nest/redstream.registry';
import { RedstreamDrainTimeoutError } from './redstream-testing.errors';
import {
  DRAIN_DELAYER,
  DRAIN_TARGET_NOT_RUNNING,
  DRAIN_TIMED_OUT,
  FLUSH_WITHOUT_NAMESPACE,
  INVALID_DRAIN_OPTION,
  INVALID_NAMESPACE_PREFIX,
  NO_DELAYER,
  NO_REGISTRY,
  UNKNOWN_DRAIN_TARGET,
} from './redstream-testing.messages';

/** What `drain()` needs of a Nest application: `INestApplication`, a testing module's context... */
export type RedstreamTestingApp = Pick<INestApplicationContext, 'get'>;

/** Options of {@link drain}. */
export interface DrainOptions {
  /** How long to wait in all, in ms, before rejecting with a `RedstreamDrainTimeoutError`. Default 10000. */
  timeoutMs?: number;
  /** How often to look at Redis, in ms. Default 20. */
  pollMs?: number;
  /**
   * Also wait for the delay messages that `<stream>.delay` holds at call time: first until the
   * stream's Delayer (which must run in this application) has re-queued every one of them,
   * which takes their `delay`, then until the consumer has handled what the stream holds
   * then. Default false: a delay message is a safety net whose immediate message normally
   * arrived already, and waiting for it would make every drain take the configured delay.
   */
  includeDelayed?: boolean;
}

/** What {@link drain} waited for. */
export interface DrainResult {
  stream: string;
  /** The consumer name or group. */
  consumer: string;
  kind: 'consumer' | 'group-consumer';
  /** The stream's last entry when the wait began (after the Delayer, with `includeDelayed`); null when the stream was empty. */
  upTo: string | null;
  /** How long it took, in ms. */
  waitedMs: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
const DEFAULT_DRAIN_POLL_MS = 20;

type DrainTarget =
  | { kind: 'consumer'; worker: Consumer; name: string }
  | { kind: 'group-consumer'; worker: GroupConsumer; name: string };

/** One thing to wait for: whether it is done, and in words where it is when it is not. */
interface Waiting {
  what: string;
  upTo: string;
  isDone(): Promise<boolean>;
  whereItGot(): Promise<{ reached: string | null; words: string }>;
}

/**
 * Waits until consumer (or consumer group) `consumer` of `stream`, running in `app`, has
 * handled every entry the stream holds now: for an offset consumer, until its committed
 * offset reaches the stream's last entry at call time; for a group consumer, until the group
 * has delivered that far and no entry up to it is pending (unacked) on any member. Entries
 * produced after the call are not waited for. Entries a handler failed on count as handled
 * once they went to the dead letters (or were skipped as unparseable), as the consumer does.
 *
 * Delay messages are not waited for unless `includeDelayed` is set (see {@link DrainOptions}).
 *
 * Rejects with a `RedstreamDrainTimeoutError` after `timeoutMs` naming what it waited for and
 * where the consumer got to (offset, entries behind, active/standby, stalled); with a
 * `RedstreamConfigError` at once when nothing of that name runs in the application.
 *
 * @example
 * ```ts
 * await app.get(Producer).queue('products', { id: 1 });
 * await redstreamTesting.drain(app, 'products', 'indexer', { timeoutMs: 5_000 });
 * expect(searchIndex.has(1)).toBe(true);
 * ```
 */
export async function drain(
  app: RedstreamTestingApp,
  stream: string,
  consumer: string,
  options: DrainOptions = {},
): Promise<DrainResult> {
  const timeoutMs = positiveDrainMs(options.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, 'timeoutMs');
  const pollMs = positiveDrainMs(options.pollMs ?? DEFAULT_DRAIN_POLL_MS, 'pollMs');
  validateStreamName(stream);
  const registry = registryOf(app);
  const target = findTarget(registry, stream, consumer);
  const redstream = registry.redstream;
  const started = Date.now();
  const wait: WaitSettings = { deadline: started + timeoutMs, timeoutMs, pollMs, redstream, stream, consumer };

  if (options.includeDelayed) {
    if (!registry.getDelayer(stream)) throw new RedstreamConfigError(NO_DELAYER(stream));
    const delayed = await lastEntryId(redstream.client, redstream.keys.delayStream(stream));
    if (delayed) await waitFor(delayerWaiting(redstream, stream, consumer, delayed), wait);
  }
  const upTo = await lastEntryId(redstream.client, redstream.keys.stream(stream));
  if (upTo) {
    const waiting =
      target.kind === 'consumer'
        ? consumerWaiting(redstream, stream, target.name, target.worker, upTo)
        : groupWaiting(redstream, stream, target.name, target.worker, upTo);
    await waitFor(waiting, wait);
  }
  return { stream, consumer, kind: target.kind, upTo: upTo ?? null, waitedMs: Date.now() - started };
}

/**
 * A namespace of its own for one test (`<prefix>-<8 hex digits>`), so that tests running at
 * once, or one after another against the same Redis, never share keys.
 */
export function uniqueNamespace(prefix = 'test'): string {
  const namespace = `${prefix}-${randomBytes(4).toString('hex')}`;
  try {
    validateNamespace(namespace);
  } catch (error) {
    throw new RedstreamConfigError(INVALID_NAMESPACE_PREFIX(prefix, (error as Error).message));
  }
  return namespace;
}

/**
 * Deletes every key of `namespace` (`<namespace>:redstream:*`: streams, delay and dead-letter
 * streams, offsets, locks, consumer registries) on `client`, on every master of a Cluster;
 * returns how many were deleted. Call it after `app.close()`, with a client of your own:
 * running workers would write their offsets and locks again. Nothing outside the namespace is
 * touched, and an empty namespace is refused.
 */
export async function flushNamespace(client: RedisClient, namespace: string): Promise<number> {
  if (typeof namespace !== 'string' || namespace === '') throw new RedstreamConfigError(FLUSH_WITHOUT_NAMESPACE());
  const pattern = `${escapeGlob(new RedstreamKeys(namespace).base)}:*`;
  const nodes = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      // One key per UNLINK: in a Cluster the keys of one node lie in many slots.
      if (keys.length > 0) {
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        for (const [error, count] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          deleted += Number(count);
        }
      }
    } while (cursor !== '0');
  }
  return deleted;
}

/**
 * Helpers for end-to-end tests of an application's consumers against a real Redis, for any
 * test runner (they throw and reject; they assert nothing themselves).
 */
export const redstreamTesting = { drain, uniqueNamespace, flushNamespace } as const;

function registryOf(app: RedstreamTestingApp): RedstreamRegistry {
  try {
    return app.get(RedstreamRegistry, { strict: false });
  } catch (error) {
    throw new RedstreamConfigError(NO_REGISTRY(), { cause: error });
  }
}

function findTarget(registry: RedstreamRegistry, stream: string, name: string): DrainTarget {
  const consumer = registry.getConsumer(stream, name);
  if (consumer) return { kind: 'consumer', worker: consumer, name };
  const group = registry.getGroupConsumer(stream, name);
  if (group) return { kind: 'group-consumer', worker: group, name };
  const declared = registry.handlerEntry(`${stream}:${name}`);
  if (declared?.options.kind === 'delayer') throw new RedstreamConfigError(DRAIN_DELAYER(stream));
  if (declared) throw new RedstreamConfigError(DRAIN_TARGET_NOT_RUNNING(stream, name, declared.label));
  const running = registry
    .handlerEntries()
    .filter((entry) => entry.worker && entry.options.kind !== 'delayer')
    .map((entry) => `${entry.options.key} (${entry.options.kind})`);
  throw new RedstreamConfigError(UNKNOWN_DRAIN_TARGET(stream, name, running));
}

function consumerWaiting(redstream: Redstream, stream: string, name: string, worker: Consumer, upTo: string): Waiting {
  return {
    what: `consumer '${name}' of stream '${stream}' to commit up to ${upTo}, the stream's last entry when drain() was called`,
    upTo,
    isDone: async () => {
      const offset = await redstream.committedOffset(stream, name);
      return offset !== null && compareStreamIds(offset, upTo) >= 0;
    },
    whereItGot: async () => {
      const lag = await redstream.lag(stream, name);
      const at = lag.offset === null ? 'it has committed nothing yet' : `its committed offset is ${lag.offset}`;
      const behind = `${lag.exact ? '' : 'about '}${lag.entries} entries after it in the stream now`;
      return { reached: lag.offset, words: `${at}, ${behind}; ${workerState(worker, 'consumer')}` };
    },
  };
}

function groupWaiting(
  redstream: Redstream,
  stream: string,
  group: string,
  worker: GroupConsumer,
  upTo: string,
): Waiting {
  return {
    what:
      `consumer group '${group}' of stream '${stream}' to deliver and ack every entry up to ${upTo}, ` +
      "the stream's last entry when drain() was called",
    upTo,
    isDone: async () => {
      const info = await redstream.groupInfo(stream, group);
      if (!info || compareStreamIds(info.lastDeliveredId, upTo) < 0) return false;
      return info.oldestPending === undefined || compareStreamIds(info.oldestPending.id, upTo) > 0;
    },
    whereItGot: async () => {
      const info = await redstream.groupInfo(stream, group);
      if (!info)
        return { reached: null, words: `the group does not exist yet; ${workerState(worker, 'group member')}` };
      const oldest = info.oldestPending;
      const pending = oldest
        ? `${info.pending} pending, the oldest ${oldest.id} held by ${oldest.member} (delivered ${oldest.deliveries} times)`
        : 'none pending';
      return {
        reached: info.lastDeliveredId,
        words:
          `its last delivered id is ${info.lastDeliveredId}, ${info.lag} entries not delivered yet, ${pending}; ` +
          workerState(worker, 'group member'),
      };
    },
  };
}

function delayerWaiting(redstream: Redstream, stream: string, consumer: string, upTo: string): Waiting {
  const delayKey = redstream.keys.delayStream(stream);
  const oldestWaiting = async (): Promise<string | undefined> => {
    const first = (await redstream.client.xrange(delayKey, '-', '+', 'COUNT', 1)) as [string, string[]][];
    return first[0]?.[0];
  };
  return {
    what:
      `the Delayer of '${stream}' to re-queue every delay message up to ${upTo} ` +
      `(includeDelayed; consumer '${consumer}' was to be drained next)`,
    upTo,
    isDone: async () => {
      const oldest = await oldestWaiting();
      return oldest === undefined || compareStreamIds(oldest, upTo) > 0;
    },
    whereItGot: async () => {
      const backlog = await redstream.delayBacklog(stream);
      return {
        reached: null,
        words: `${backlog.entries} delay messages still wait, the oldest ${backlog.oldestAgeMs} ms old (are they older than the Delayer's delay?)`,
      };
    },
  };
}

interface WaitSettings {
  deadline: number;
  timeoutMs: number;
  pollMs: number;
  redstream: Redstream;
  stream: string;
  consumer: string;
}

async function waitFor(waiting: Waiting, settings: WaitSettings): Promise<void> {
  const { deadline, timeoutMs, pollMs, redstream, stream, consumer } = settings;
  for (;;) {
    if (await waiting.isDone()) return;
    if (Date.now() >= deadline) {
      const { reached, words } = await waiting.whereItGot();
      throw new RedstreamDrainTimeoutError(
        DRAIN_TIMED_OUT(timeoutMs, waiting.what, words, redstream.keys.namespace),
        stream,
        consumer,
        waiting.upTo,
        reached,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
  }
}

function workerState(worker: Consumer | GroupConsumer, role: string): string {
  const state = worker.isActive
    ? 'active'
    : worker.isRunning
      ? 'not active: on standby (another instance holds its lock) or not started yet'
      : 'stopped';
  const stalled = worker.isStalled
    ? `, stalled since ${worker.stalledSince?.toISOString()} (its handler or Redis keeps failing: see the log)`
    : '';
  return `this application's ${role} is ${state}${stalled}`;
}

async function lastEntryId(client: RedisClient, key: string): Promise<string | undefined> {
  const last = (await client.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
  return last[0]?.[0];
}

/** The engine's rule for timings, with the error naming `drain`. */
function positiveDrainMs(value: unknown, option: string): number {
  try {
    return positiveMs(value, option);
  } catch (error) {
    throw new RedstreamConfigError(INVALID_DRAIN_OPTION((error as Error).message));
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
