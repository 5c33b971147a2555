/** The meter's and tracer's name (the instrumentation scope). */
export const INSTRUMENTATION_SCOPE = '@redstream/nestjs';

/**
 * Metric names: OpenTelemetry's messaging semantic conventions where one fits, `redstream.*`
 * for the rest. README "Operations > Metrics" documents each one; keep the two in step.
 */
export const METRICS = {
  sent: 'messaging.client.sent.messages',
  consumed: 'messaging.client.consumed.messages',
  processDuration: 'messaging.process.duration',
  latency: 'redstream.process.latency',
  failed: 'redstream.messages.failed',
  rejected: 'redstream.messages.rejected',
  requeued: 'redstream.messages.requeued',
  trimmed: 'redstream.messages.trimmed',
  deadLettered: 'redstream.messages.dead_lettered',
  active: 'redstream.worker.active',
  lag: 'redstream.consumer.lag',
  lagAge: 'redstream.consumer.lag.age',
  pending: 'redstream.group.pending',
  delayBacklog: 'redstream.delay.backlog',
  delayBacklogAge: 'redstream.delay.backlog.age',
} as const;

/** Attribute keys (messaging semantic conventions, plus `redstream.worker.kind`). */
export const ATTRIBUTES = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  consumerGroup: 'messaging.consumer.group.name',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  workerKind: 'redstream.worker.kind',
} as const;

export const MESSAGING_SYSTEM = 'redis';

/** The messaging semantic conventions' buckets for durations in seconds. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Latency can reach the delay (minutes) when a Delayer re-queues; buckets up to an hour. */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** Gauges read lag with this `maxCount`: beyond it the count is estimated, and the read stays cheap. */
export const GAUGE_LAG_MAX_COUNT = 1_000;

/** A gauge read that takes longer is left out of that collection (Redis slow or unreachable). */
export const GAUGE_READ_TIMEOUT_MS = 1_000;

/** A batch span links to at most this many distinct producer contexts (the SDK's default limit). */
export const MAX_SPAN_LINKS = 128;
