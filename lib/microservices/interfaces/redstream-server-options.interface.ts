import type {
  ConsumerOptions,
  DelayerOptions,
  Duration,
  GroupConsumerOptions,
  RedstreamPayload,
  WorkerOptions,
} from '../../engine';
import type { RedstreamTransportConnectionOptions } from './redstream-transport-connection-options.interface';

/** Tuning of the offset consumer run for each `@EventPattern` (what the server sets itself left out). */
export type RedstreamServerConsumerOptions = Omit<ConsumerOptions<RedstreamPayload>, 'stream' | 'name' | 'handler'>;

/** Tuning of the consumer-group member run for each `@EventPattern` (what the server sets itself left out). */
export type RedstreamServerGroupOptions = Omit<GroupConsumerOptions<RedstreamPayload>, 'stream' | 'group' | 'handler'>;

/** What both modes of {@link RedstreamServerOptions} share. */
export interface RedstreamServerCommonOptions extends RedstreamTransportConnectionOptions {
  /**
   * Run a Delayer for each consumed stream, re-queueing its delay messages (written with
   * `RedstreamClient.delay()`, `Producer.delay()` or the TypeORM integration) once they are
   * `delay` old. One Delayer per stream is active across all instances. Default: none.
   */
  delayer?: Omit<DelayerOptions, 'stream' | 'onDue'>;
  /**
   * The Trimmer of each consumed stream: deletes what every reader has committed, every
   * `interval` (default 30 s), one active per stream across all instances. `false` runs none
   * (trim elsewhere). Default: on.
   */
  trimmer?: false | (WorkerOptions & { interval?: Duration });
  /**
   * How long `close()` waits for the batches in flight to finish and commit, in ms; a batch
   * still running then is delivered again. Default 10000.
   */
  drainTimeoutMs?: number;
}

/** Offset-consumer mode: each stream is read in order by one active instance per `consumer` name. */
export interface RedstreamServerConsumerModeOptions extends RedstreamServerCommonOptions {
  /**
   * The consumer name, for every `@EventPattern` stream: it names the committed offset and the
   * lock. Instances with the same name are hot standbys of the active one.
   */
  consumer: string;
  group?: undefined;
  /** Batch size, block time, lock timings, backoff, `handlerTimeoutMs`, `deadLetter`... */
  consumerOptions?: RedstreamServerConsumerOptions;
}

/** Consumer-group mode: every instance reads, each entry goes to one of them (not in order across instances). */
export interface RedstreamServerGroupModeOptions extends RedstreamServerCommonOptions {
  /** The Redis consumer group, for every `@EventPattern` stream. */
  group: string;
  consumer?: undefined;
  /** `startAt`, `claimIdleMs`, `maxDeliveries`, `concurrency`, batch size, backoff... */
  groupOptions?: RedstreamServerGroupOptions;
}

/** Options of {@link RedstreamServer}: exactly one of `consumer` and `group`. */
export type RedstreamServerOptions = RedstreamServerConsumerModeOptions | RedstreamServerGroupModeOptions;
