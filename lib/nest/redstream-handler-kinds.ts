import {
  Consumer,
  DELAYER_CONSUMER_NAME,
  Delayer,
  Duration,
  GroupConsumer,
  Redstream,
  RedstreamMessage,
  RedstreamPayload,
  StreamDefinition,
  StreamRef,
  WORKER_DEFAULTS,
} from '../engine';
import type { RedstreamConsumerOptions } from './interfaces/redstream-consumer-options.interface';
import type { RedstreamDelayerOptions } from './interfaces/redstream-delayer-options.interface';
import type { RedstreamGroupConsumerOptions } from './interfaces/redstream-group-consumer-options.interface';
import type { RedstreamHandlerContext } from './interfaces/redstream-handler-context.interface';
import type { RedstreamWorkerSettings } from './interfaces/redstream-consumer-options.interface';
import type { HandlerDecoratorName } from './redstream.messages';

/** Runs the decorated method on one batch. */
export type BatchHandler = (messages: RedstreamMessage<RedstreamPayload>[]) => Promise<unknown>;

/** The engine workers a decorated method drives. */
export type HandlerWorker = Consumer | Delayer | GroupConsumer;

/** Options a handler kind adds to the worker settings, overridable in the module's `handlers`. */
export interface HandlerOwnSettings extends Pick<
  RedstreamGroupConsumerOptions,
  'startAt' | 'claimIdleMs' | 'claimIntervalMs' | 'maxDeliveries' | 'forgetIdleMs' | 'concurrency'
> {
  handlerTimeoutMs?: number;
  delay?: Duration;
  deadLetter?: RedstreamConsumerOptions['deadLetter'];
  shardGroup?: string | false;
}

type WorkerSettingKey = keyof typeof WORKER_DEFAULTS;

/** A handler's options after layering: consumerDefaults < decorator < `handlers` overrides. */
export interface ResolvedHandlerOptions {
  readonly kind: RedstreamHandlerContext['kind'];
  readonly decorator: HandlerDecoratorName;
  /** `Class.method` of the decorated method. */
  readonly where: string;
  /** The key of the module option `handlers`: `'<stream>:<name>'`. */
  readonly key: string;
  readonly stream: string;
  /** The stream's definition when the decorator named it by one: the engine worker checks entries with its `parse`. */
  readonly definition?: StreamDefinition<RedstreamPayload>;
  /** The consumer name, the group of a group consumer; `delayer` for a delayer. */
  readonly name: string;
  /** False when the decorator or `handlers` turned it off. */
  readonly enabled: boolean;
  /** Only the settings some layer defined: undefined never hides a value below it. */
  readonly settings: RedstreamWorkerSettings & HandlerOwnSettings;
}

/** What every handler decorator takes. */
export interface HandlerDecoratorOptions {
  stream: StreamRef<object>;
  enabled?: boolean;
}

/**
 * What differs between the kinds of decorated method. Everything else (option layering,
 * override checks, validation, invocation, the registry, start and stop) is shared, so a new
 * kind is one more entry here.
 */
export interface RedstreamHandlerKind<
  TOptions extends HandlerDecoratorOptions = HandlerDecoratorOptions,
  TWorker extends HandlerWorker = HandlerWorker,
> {
  readonly kind: RedstreamHandlerContext['kind'];
  readonly decorator: HandlerDecoratorName;
  /** The handler's name within its stream, second part of its `handlers` key; undefined when missing. */
  nameOf(options: Partial<TOptions>): string | undefined;
  /** The option that names it, for the "has no ..." error. */
  readonly nameOption: string;
  /** Names this kind may not use. */
  readonly reservedNames: readonly string[];
  /** The shared worker settings it takes (from every layer); the others are refused in `handlers`. */
  readonly workerSettings: readonly WorkerSettingKey[];
  /** Settings of its own besides the worker settings; other kinds' own settings are refused in `handlers`. */
  readonly ownSettings: readonly (keyof HandlerOwnSettings)[];
  /** Own settings that some layer must define. */
  readonly requiredSettings: readonly (keyof HandlerOwnSettings)[];
  /** Builds the engine worker; it validates its options when constructed. */
  create(redstream: Redstream, options: ResolvedHandlerOptions, handle: BatchHandler): TWorker;
  /** The context handed to the method with each batch, once `worker` exists. */
  contextOf(options: ResolvedHandlerOptions, worker: TWorker): RedstreamHandlerContext;
}

const ALL_WORKER_SETTINGS = Object.keys(WORKER_DEFAULTS) as WorkerSettingKey[];

/** The context of a consumer or delayer: its kind, stream and name. */
const workerContext = ({ kind, stream, name }: ResolvedHandlerOptions): RedstreamHandlerContext => ({
  kind: kind as 'consumer' | 'delayer',
  stream,
  name,
});

export const CONSUMER_KIND: RedstreamHandlerKind<RedstreamConsumerOptions<object>, Consumer> = {
  kind: 'consumer',
  decorator: '@RedstreamConsumer',
  nameOf: (options) => options.name,
  nameOption: 'name',
  reservedNames: [DELAYER_CONSUMER_NAME],
  workerSettings: ALL_WORKER_SETTINGS,
  ownSettings: ['handlerTimeoutMs', 'deadLetter', 'shardGroup'],
  requiredSettings: [],
  create: (redstream, { stream, definition, name, settings }, handle) =>
    redstream.consumer({ ...settings, stream: definition ?? stream, name, handler: handle }),
  contextOf: workerContext,
};

export const DELAYER_KIND: RedstreamHandlerKind<RedstreamDelayerOptions, Delayer> = {
  kind: 'delayer',
  decorator: '@RedstreamDelayer',
  nameOf: () => DELAYER_CONSUMER_NAME,
  nameOption: 'name',
  reservedNames: [],
  workerSettings: ALL_WORKER_SETTINGS,
  ownSettings: ['delay', 'shardGroup'],
  requiredSettings: ['delay'],
  // The resolver made sure a delay is defined.
  create: (redstream, { stream, settings }, handle) =>
    redstream.delayer({ ...settings, stream, delay: settings.delay as Duration, onDue: handle }),
  contextOf: workerContext,
};

export const GROUP_CONSUMER_KIND: RedstreamHandlerKind<RedstreamGroupConsumerOptions<object>, GroupConsumer> = {
  kind: 'group-consumer',
  decorator: '@RedstreamGroupConsumer',
  nameOf: (options) => options.group,
  nameOption: 'group',
  // `'<stream>:delayer'` names the stream's delayer in `handlers` and RedstreamRegistry.
  reservedNames: [DELAYER_CONSUMER_NAME],
  // Every member is active at once: no lock, so no lock settings.
  workerSettings: [
    'batchSize',
    'maxBatchBytes',
    'blockMs',
    'readGraceMs',
    'backoffInitialMs',
    'backoffMaxMs',
    'stalledAfterMs',
  ],
  ownSettings: [
    'handlerTimeoutMs',
    'startAt',
    'claimIdleMs',
    'claimIntervalMs',
    'maxDeliveries',
    'forgetIdleMs',
    'concurrency',
  ],
  requiredSettings: [],
  create: (redstream, { stream, definition, name, settings }, handle) =>
    redstream.groupConsumer({ ...settings, stream: definition ?? stream, group: name, handler: handle }),
  contextOf: ({ stream, name }, worker) => ({
    kind: 'group-consumer',
    stream,
    name,
    group: name,
    member: worker.member,
  }),
};

/** Every handler kind, in the order the explorer records them. */
export const HANDLER_KINDS = [CONSUMER_KIND, GROUP_CONSUMER_KIND, DELAYER_KIND] as const;

/** Every setting some kind takes, to refuse in `handlers` those its handler's kind does not. */
export const ALL_SETTINGS: readonly (WorkerSettingKey | keyof HandlerOwnSettings)[] = [
  ...new Set([...ALL_WORKER_SETTINGS, ...HANDLER_KINDS.flatMap((kind) => kind.ownSettings)]),
];
