import { Inject, Injectable } from '@nestjs/common';
import { RedstreamConfigError, WORKER_DEFAULTS } from '../engine';
import type { DiscoveredHandler } from './interfaces/redstream-handler.interface';
import type { RedstreamHandlerOverrides } from './interfaces/redstream-module-options.interface';
import { REDSTREAM_RESOLVED_OPTIONS } from './redstream.constants';
import {
  ALL_OWN_SETTINGS,
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

const WORKER_SETTING_KEYS = Object.keys(WORKER_DEFAULTS) as (keyof typeof WORKER_DEFAULTS)[];

type SettingKey = keyof ResolvedHandlerOptions['settings'];
type Layer = Partial<Record<SettingKey, unknown>>;

/**
 * Resolves the options of one decorated method: checks what its kind requires, layers
 * `consumerDefaults` < decorator < `handlers["<stream>:<name>"]` (undefined never hides a
 * value below it) and refuses overrides that belong to another kind. The engine validates
 * the values themselves when the worker is built.
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
    const stream = decorated.stream;
    if (stream === undefined) throw new RedstreamConfigError(MISSING_OPTION(decorator, where, 'stream'));
    const name = kind.nameOf(decorated);
    if (name === undefined) throw new RedstreamConfigError(MISSING_OPTION(decorator, where, kind.nameOption));
    if (kind.reservedNames.includes(name)) {
      throw new RedstreamConfigError(RESERVED_CONSUMER_NAME(decorator, where, name));
    }

    const key = `${stream}:${name}`;
    const overrides = this.overridesFor(key, kind);
    const settings: Layer = {};
    const layers: Layer[] = [this.options.consumerDefaults, decorated as Layer, overrides];
    for (const setting of [...WORKER_SETTING_KEYS, ...kind.ownSettings]) {
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
    for (const foreign of ALL_OWN_SETTINGS) {
      if (!kind.ownSettings.includes(foreign) && overrides[foreign] !== undefined) {
        throw new RedstreamConfigError(
          INVALID_MODULE_OPTION(`handlers["${key}"].${foreign}`, FOREIGN_HANDLER_OVERRIDE(kind.kind, foreign)),
        );
      }
    }
    return overrides;
  }
}
