import { Inject, Injectable } from '@nestjs/common';
import { RedstreamConfigError, RedstreamPayload, StreamDefinition, streamNameOf } from '../engine';
import type { DiscoveredHandler } from './interfaces/redstream-handler.interface';
import type { RedstreamHandlerOverrides } from './interfaces/redstream-module-options.interface';
import { REDSTREAM_RESOLVED_OPTIONS } from './redstream.constants';
import {
  ALL_SETTINGS,
  HandlerDecoratorOptions,
  RedstreamHandlerKind,
  ResolvedHandlerOptions,
} from './redstream-handler-kinds';
import {
  FOREIGN_HANDLER_OVERRIDE,
  INVALID_MODULE_OPTION,
  MISSING_OPTION,
  RESERVED_CONSUMER_NAME,
} from './redstream.messages';
import type { ResolvedRedstreamModuleOptions } from './redstream-module-options.resolver';

type SettingKey = keyof ResolvedHandlerOptions['settings'];
type Layer = Partial<Record<SettingKey, unknown>>;

/**
 * Resolves the options of one decorated method: checks what its kind requires, layers
 * `consumerDefaults` < decorator < `handlers["<stream>:<name>"]` (undefined never hides a
 * value below it; `consumerDefaults` apply where a kind takes the option, e.g. not the lock
 * settings to a group consumer) and refuses overrides its kind does not take. The engine
 * validates the values themselves when the worker is built.
 */
@Injectable()
export class RedstreamHandlerOptionsResolver {
  constructor(@Inject(REDSTREAM_RESOLVED_OPTIONS) private readonly options: ResolvedRedstreamModuleOptions) {}

  resolve<TOptions extends HandlerDecoratorOptions>(
    kind: RedstreamHandlerKind<TOptions>,
    handler: DiscoveredHandler<TOptions>,
  ): ResolvedHandlerOptions {
    const { decorator } = kind;
    const { where, options: decorated } = handler;
    const streamOption = decorated.stream;
    if (streamOption === undefined) throw new RedstreamConfigError(MISSING_OPTION(decorator, where, 'stream'));
    // The engine validates the name when the worker is built.
    const stream = streamNameOf(streamOption);
    const definition =
      typeof streamOption === 'object' && streamOption !== null
        ? (streamOption as StreamDefinition<RedstreamPayload>)
        : undefined;
    const name = kind.nameOf(decorated);
    if (name === undefined) throw new RedstreamConfigError(MISSING_OPTION(decorator, where, kind.nameOption));
    if (kind.reservedNames.includes(name)) {
      throw new RedstreamConfigError(RESERVED_CONSUMER_NAME(decorator, where, name));
    }

    const key = `${stream}:${name}`;
    const overrides = this.overridesFor(key, kind);
    const settings: Layer = {};
    const layers: Layer[] = [this.options.consumerDefaults, decorated as Layer, overrides];
    for (const setting of [...kind.workerSettings, ...kind.ownSettings]) {
      for (const layer of layers) if (layer[setting] !== undefined) settings[setting] = layer[setting];
    }
    for (const required of kind.requiredSettings) {
      if (settings[required] === undefined) throw new RedstreamConfigError(MISSING_OPTION(decorator, where, required));
    }
    return {
      kind: kind.kind,
      decorator,
      where,
      key,
      stream,
      definition,
      name,
      enabled: overrides.enabled ?? decorated.enabled ?? true,
      settings: settings as ResolvedHandlerOptions['settings'],
    };
  }

  /** Keys of the `handlers` option that match none of `known`. */
  unmatchedOverrides(known: readonly string[]): string[] {
    return Object.keys(this.options.handlers).filter((key) => !known.includes(key));
  }

  private overridesFor(key: string, kind: RedstreamHandlerKind): RedstreamHandlerOverrides {
    const overrides = this.options.handlers[key] ?? {};
    const taken: readonly string[] = [...kind.workerSettings, ...kind.ownSettings];
    for (const foreign of ALL_SETTINGS) {
      if (!taken.includes(foreign) && overrides[foreign] !== undefined) {
        throw new RedstreamConfigError(
          INVALID_MODULE_OPTION(`handlers["${key}"].${foreign}`, FOREIGN_HANDLER_OVERRIDE(kind.kind, foreign)),
        );
      }
    }
    return overrides;
  }
}
