import {
  Consumer,
  DELAYER_CONSUMER_NAME,
  Delayer,
  Duration,
  Redstream,
  RedstreamMessage,
  RedstreamPayload,
} from '../engine';
import type { RedstreamConsumerOptions } from './interfaces/redstream-consumer-options.interface';
import type { RedstreamDelayerOptions } from './interfaces/redstream-delayer-options.interface';
import type { RedstreamHandlerContext } from './interfaces/redstream-handler-context.interface';
import type { RedstreamWorkerSettings } from './interfaces/redstream-consumer-options.interface';
import type { HandlerDecoratorName } from './redstream.messages';

/** Runs the decorated method on one batch. */
export type BatchHandler = (messages: RedstreamMessage<RedstreamPayload>[]) => Promise<unknown>;

/** The engine workers a decorated method drives. */
export type HandlerWorker = Consumer | Delayer;

/** Options a handler kind adds to the worker settings, overridable in the module's `handlers`. */
export interface HandlerOwnSettings {
  handlerTimeoutMs?: number;
  delay?: Duration;
}

/** A handler's options after layering: consumerDefaults < decorator < `handlers` overrides. */
export interface ResolvedHandlerOptions {
  readonly kind: RedstreamHandlerContext['kind'];
  readonly decorator: HandlerDecoratorName;
  /** `Class.method` of the decorated method. */
  readonly where: string;
  /** The key of the module option `handlers`: `'<stream>:<name>'`. */
  readonly key: string;
  readonly stream: string;
  /** The consumer name; `delayer` for a delayer. */
  readonly name: string;
  /** False when the decorator or `handlers` turned it off. */
  readonly enabled: boolean;
  /** Only the settings some layer defined: undefined never hides a value below it. */
  readonly settings: RedstreamWorkerSettings & HandlerOwnSettings;
}

/** What every handler decorator takes. */
export interface HandlerDecoratorOptions {
  stream: string;
  enabled?: boolean;
}

/**
 * What differs between the kinds of decorated method. Everything else (option layering,
 * override checks, validation, invocation, the registry, start and stop) is shared, so a new
 * kind (e.g. a group consumer keyed `'<stream>:<group>'`) is one more entry here.
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
  /** Settings of its own besides the worker settings; other kinds' own settings are refused in `handlers`. */
  readonly ownSettings: readonly (keyof HandlerOwnSettings)[];
  /** Own settings that some layer must define. */
  readonly requiredSettings: readonly (keyof HandlerOwnSettings)[];
  /** Builds the engine worker; it validates its options when constructed. */
  create(redstream: Redstream, options: ResolvedHandlerOptions, handle: BatchHandler): TWorker;
}

export const CONSUMER_KIND: RedstreamHandlerKind<RedstreamConsumerOptions, Consumer> = {
  kind: 'consumer',
  decorator: '@RedstreamConsumer',
  nameOf: (options) => options.name,
  nameOption: 'name',
  reservedNames: [DELAYER_CONSUMER_NAME],
  ownSettings: ['handlerTimeoutMs'],
  requiredSettings: [],
  create: (redstream, { stream, name, settings }, handle) =>
    redstream.consumer({ ...settings, stream, name, handler: handle }),
};

export const DELAYER_KIND: RedstreamHandlerKind<RedstreamDelayerOptions, Delayer> = {
  kind: 'delayer',
  decorator: '@RedstreamDelayer',
  nameOf: () => DELAYER_CONSUMER_NAME,
  nameOption: 'name',
  reservedNames: [],
  ownSettings: ['delay'],
  requiredSettings: ['delay'],
  // The resolver made sure a delay is defined.
  create: (redstream, { stream, settings }, handle) =>
    redstream.delayer({ ...settings, stream, delay: settings.delay as Duration, onDue: handle }),
};

/** Every own setting of every kind, to refuse those of another kind in `handlers`. */
export const ALL_OWN_SETTINGS: readonly (keyof HandlerOwnSettings)[] = [
  ...new Set([...CONSUMER_KIND.ownSettings, ...DELAYER_KIND.ownSettings]),
];
