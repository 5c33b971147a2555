import { Logger } from '@nestjs/common';
import { Cron } from 'croner';
import {
  BlockingReadsMode,
  durationToMs,
  LockExpiryEvents,
  ProducerOptions,
  RedisConnection,
  RedstreamConfigError,
  RedstreamLogger,
  silentLogger,
  validateConsumerName,
  validateNamespace,
  validateStreamName,
  isRedisClient,
  describeConnection,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_REDIS_URL,
  DEFAULT_TRIM_INTERVAL_MS,
} from '../engine';
import { LOCK_EXPIRY_EVENTS } from '../engine/lock-expiry-watch';
import { BLOCKING_READS_MODES } from '../engine/shared-blocking-reads';
import { booleanOption as checkBoolean, nonNegativeMs, oneOf, positiveMs } from '../engine/option-validation';
import { validateGroupName } from '../engine/redstream-keys';
import { engineLoggerOf } from './redstream-nest-logger';
import type {
  RedstreamConsumerDefaults,
  RedstreamHandlerOverrides,
  RedstreamModuleOptions,
} from './interfaces/redstream-module-options.interface';
import { DEFAULT_BOOTSTRAP_PING_TIMEOUT_MS, DEFAULT_LOGGER_CONTEXT } from './redstream.constants';
import { INVALID_MODULE_OPTION } from './redstream.messages';

/** When trimmers run: every `intervalMs`, or on a cron pattern. */
export type TrimSchedule = { readonly intervalMs: number } | { readonly cron: string };

/** The module options with defaults filled in and every value checked. */
export interface ResolvedRedstreamModuleOptions {
  readonly redis: RedisConnection;
  readonly namespace?: string;
  readonly logger: RedstreamLogger;
  readonly lockExpiryEvents: LockExpiryEvents;
  readonly blockingReads: BlockingReadsMode;
  readonly consumerDefaults: RedstreamConsumerDefaults;
  readonly producer: ProducerOptions;
  readonly trimmer:
    | false
    | {
        readonly schedule: TrimSchedule;
        readonly consumerNames: Record<string, string[]>;
        readonly groupNames: Record<string, string[]>;
      };
  readonly handlers: Record<string, RedstreamHandlerOverrides>;
  readonly backgroundServices: boolean;
  readonly autoStart: boolean;
  readonly drainTimeoutMs: number;
  readonly requireRedisAtBootstrap: false | { readonly timeoutMs: number };
}

/**
 * Fills in defaults and validates the module options. It runs before anything connects to
 * Redis, so a configuration error fails bootstrap without leaving a connection open.
 */
export function resolveModuleOptions(options: RedstreamModuleOptions = {}): ResolvedRedstreamModuleOptions {
  return {
    redis: resolveRedis(options.redis),
    namespace: resolveNamespace(options.namespace),
    logger: resolveLogger(options.logger),
    lockExpiryEvents: resolveLockExpiryEvents(options.lockExpiryEvents),
    blockingReads: resolveBlockingReads(options.blockingReads),
    consumerDefaults: objectOption(options.consumerDefaults, 'consumerDefaults'),
    producer: objectOption(options.producer, 'producer'),
    trimmer: resolveTrimmer(options.trimmer),
    handlers: resolveHandlers(options.handlers),
    backgroundServices: booleanOption(options.backgroundServices, 'backgroundServices', true),
    autoStart: booleanOption(options.autoStart, 'autoStart', true),
    drainTimeoutMs: resolveDrainTimeout(options.drainTimeoutMs),
    requireRedisAtBootstrap: resolveRequireRedis(options.requireRedisAtBootstrap),
  };
}

function resolveRedis(redis: RedisConnection | undefined): RedisConnection {
  if (redis === undefined) return DEFAULT_REDIS_URL;
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//.test(redis)) {
      fail(
        'redis',
        `expected a redis:// or rediss:// URL, ioredis options or an ioredis client, got "${describeConnection(redis)}"`,
      );
    }
    return redis;
  }
  if (isRedisClient(redis) || isPlainObject(redis)) return redis;
  return fail(
    'redis',
    `expected a redis:// or rediss:// URL, ioredis options or an ioredis client, got ${JSON.stringify(redis)}`,
  );
}

function resolveNamespace(namespace: unknown): string | undefined {
  try {
    return validateNamespace(namespace);
  } catch (error) {
    return fail('namespace', (error as Error).message);
  }
}

function resolveBlockingReads(value: unknown): BlockingReadsMode {
  return withReason('blockingReads', () => oneOf(value, 'it', BLOCKING_READS_MODES, 'shared'));
}

function resolveLockExpiryEvents(value: unknown): LockExpiryEvents {
  return withReason('lockExpiryEvents', () => oneOf(value, 'it', LOCK_EXPIRY_EVENTS, 'listen'));
}

function fail(option: string, reason: string): never {
  throw new RedstreamConfigError(INVALID_MODULE_OPTION(option, reason));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectOption<T extends object>(value: T | undefined, option: string): T {
  if (value === undefined) return {} as T;
  if (!isPlainObject(value)) fail(option, `expected an object, got ${JSON.stringify(value)}`);
  return value;
}

function booleanOption(value: unknown, option: string, fallback: boolean): boolean {
  return withReason(option, () => checkBoolean(value, 'it', fallback));
}

function resolveLogger(logger: RedstreamModuleOptions['logger']): RedstreamLogger {
  if (logger === false) return silentLogger;
  if (logger === undefined) return engineLoggerOf(new Logger(DEFAULT_LOGGER_CONTEXT));
  if (typeof logger.log !== 'function' || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    fail('logger', 'expected an object with log, warn and error methods, or false');
  }
  // Nest's loggers take the engine's records (context as fields) as they are.
  return engineLoggerOf(logger);
}

function resolveDrainTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_DRAIN_TIMEOUT_MS;
  return withReason('drainTimeoutMs', () => nonNegativeMs(value, 'it'));
}

function resolveRequireRedis(
  value: RedstreamModuleOptions['requireRedisAtBootstrap'],
): ResolvedRedstreamModuleOptions['requireRedisAtBootstrap'] {
  const option = 'requireRedisAtBootstrap';
  if (value === undefined || value === false) return false;
  if (value === true) return { timeoutMs: DEFAULT_BOOTSTRAP_PING_TIMEOUT_MS };
  const { timeoutMs } = objectOption(value, option);
  if (timeoutMs === undefined) return { timeoutMs: DEFAULT_BOOTSTRAP_PING_TIMEOUT_MS };
  return { timeoutMs: withReason(`${option}.timeoutMs`, () => positiveMs(timeoutMs, 'it')) };
}

function resolveTrimmer(trimmer: RedstreamModuleOptions['trimmer']): ResolvedRedstreamModuleOptions['trimmer'] {
  if (trimmer === false) return false;
  const options = objectOption(trimmer, 'trimmer');
  return {
    schedule: resolveTrimSchedule(options.schedule),
    consumerNames: resolveNamesByStream(options.consumerNames, 'consumerNames', 'consumer', validateConsumerName),
    groupNames: resolveNamesByStream(options.groupNames, 'groupNames', 'group', validateGroupName),
  };
}

function resolveNamesByStream(
  value: Record<string, string[]> | undefined,
  optionName: string,
  what: string,
  validate: (name: unknown) => string,
): Record<string, string[]> {
  const resolved: Record<string, string[]> = {};
  for (const [stream, names] of Object.entries(objectOption(value, `trimmer.${optionName}`))) {
    const option = `trimmer.${optionName}["${stream}"]`;
    if (!Array.isArray(names)) fail(option, `expected an array of ${what} names, got ${JSON.stringify(names)}`);
    resolved[withReason(option, () => validateStreamName(stream))] = names.map((name) =>
      withReason(option, () => validate(name)),
    );
  }
  return resolved;
}

function resolveTrimSchedule(schedule: unknown): TrimSchedule {
  if (schedule === undefined) return { intervalMs: DEFAULT_TRIM_INTERVAL_MS };
  if (typeof schedule === 'number') {
    const intervalMs = withReason('trimmer.schedule', () => durationToMs(schedule, 'an interval'));
    if (intervalMs === 0) fail('trimmer.schedule', 'an interval must be above 0 ms');
    return { intervalMs };
  }
  if (typeof schedule !== 'string') {
    fail('trimmer.schedule', `expected an interval in ms or a cron expression, got ${JSON.stringify(schedule)}`);
  }
  // A duration such as '30s' has no space; a cron expression has at least four.
  if (!/\s/.test(schedule.trim())) {
    return resolveTrimSchedule(withReason('trimmer.schedule', () => durationToMs(schedule, 'an interval')));
  }
  try {
    // Parsing a paused job validates the pattern without scheduling anything.
    new Cron(schedule, { paused: true }).stop();
  } catch (error) {
    fail('trimmer.schedule', `"${schedule}" is not a valid cron expression (${(error as Error).message})`);
  }
  return { cron: schedule };
}

function resolveHandlers(handlers: RedstreamModuleOptions['handlers']): Record<string, RedstreamHandlerOverrides> {
  const resolved = objectOption(handlers, 'handlers');
  for (const [key, overrides] of Object.entries(resolved)) {
    const option = `handlers["${key}"]`;
    const [stream, name, ...rest] = key.split(':');
    if (name === undefined || rest.length > 0) {
      fail(option, `keys are '<stream>:<consumer name>', '<stream>:<group>' or '<stream>:delayer'`);
    }
    withReason(option, () => validateStreamName(stream));
    withReason(option, () => validateConsumerName(name));
    if (!isPlainObject(overrides)) fail(option, `expected an object, got ${JSON.stringify(overrides)}`);
    booleanOption(overrides.enabled, `${option}.enabled`, true);
  }
  return resolved;
}

/** Runs an engine validator and re-throws its error naming the option. */
function withReason<T>(option: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof RedstreamConfigError) fail(option, error.message);
    throw error;
  }
}
