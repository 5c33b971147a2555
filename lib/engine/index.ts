// The Redis engine: usable without Nest (`@redstream/nestjs/engine`). Exported here is what the
// README documents; the engine's building blocks (StreamWorker, StreamLock, the connection
// factory, the entry parser, the stream-id helpers) stay inside, imported by path where needed.
export * from './consumer';
export type { ConsumerDeadLetter } from './consumer-dead-lettering';
export type { DeadLetter, DeadLetterPage, DeadLetterSource, ReplayResult } from './dead-letters';
export * from './delayer';
export * from './duration';
export * from './errors';
export { GroupConsumer, GROUP_CONSUMER_DEFAULTS } from './group-consumer';
export type { DeadLetteredEntry, GroupConsumerEvents, GroupConsumerSettings } from './group-consumer';
export type { GroupInfo, GroupMemberInfo } from './group-info';
export type { GroupStartAt } from './group-membership';
export * from './interfaces/consumer-options.interface';
export * from './interfaces/group-consumer-options.interface';
export * from './interfaces/delayer-options.interface';
export * from './interfaces/lag.interface';
export * from './interfaces/producer-options.interface';
export * from './interfaces/redstream-logger.interface';
export * from './interfaces/redstream-message.interface';
export * from './interfaces/redstream-options.interface';
export * from './interfaces/redstream-status.interface';
export * from './interfaces/trimmer-options.interface';
export * from './interfaces/worker-options.interface';
export * from './producer';
export { DEFAULT_SOCKET_TIMEOUT_MS } from './redis-connection';
export type { RedisClient, RedisConnection } from './redis-connection';
export { consoleLogger, silentLogger } from './redstream-context';
export { RedstreamLogRecord } from './redstream-log-record';
export { RedstreamKeys } from './redstream-keys';
export * from './redstream';
export * from './redstream-shards';
export { defineStream } from './stream-definition';
export type { StreamDefinition, StreamDefinitionOptions, StreamPayload, StreamRef } from './stream-definition';
export { DEFAULT_LAG_MAX_COUNT } from './stream-lag';
export type { ShardGroupMembership, ShardGroups } from './shard-group-membership';
export type { StreamWorkerEvents } from './stream-worker';
export type { SkippedRange } from './foreign-deletion-detector';
export type { WorkerRecovery, WorkerStall } from './stall-watch';
export * from './trimmer';
export { WORKER_DEFAULTS } from './worker-defaults';

/**
 * @internal For this package's Nest layer and its tests, which import them from here; not part
 * of the public API and may change in any release.
 */
export { describeConnection, isRedisClient } from './redis-connection';
/** @internal See above. */
export { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_REDIS_URL, DEFAULT_TRIM_INTERVAL_MS } from './redstream-defaults';
/** @internal See above. */
export { streamNameOf } from './stream-definition';
/** @internal See above. */
export {
  consumerLockName,
  DELAYER_CONSUMER_NAME,
  trimmerLockName,
  validateConsumerName,
  validateNamespace,
  validateStreamName,
} from './redstream-keys';
