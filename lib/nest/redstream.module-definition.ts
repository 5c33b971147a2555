import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedstreamModuleOptions } from './interfaces/redstream-module-options.interface';
import { REDSTREAM_MODULE_OPTIONS } from './redstream.constants';

/** Extras of `forRoot()` / `forRootAsync()` beside the options themselves. */
export interface RedstreamModuleExtras {
  /** Registers the module globally, so that `Producer` and `RedstreamRegistry` inject anywhere. Default `true`. */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass: ConfigurableRedstreamModule,
  OPTIONS_TYPE: REDSTREAM_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REDSTREAM_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedstreamModuleOptions>({
  moduleName: 'Redstream',
  optionsInjectionToken: REDSTREAM_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<RedstreamModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal !== false,
  }))
  .build();

/** What `RedstreamModule.forRoot()` takes: the module options plus `isGlobal`. */
export type RedstreamModuleForRootOptions = typeof REDSTREAM_OPTIONS_TYPE;
/** What `RedstreamModule.forRootAsync()` takes: `imports`, `inject`, `useFactory` (or `useClass`/`useExisting`), `isGlobal`. */
export type RedstreamModuleAsyncOptions = typeof REDSTREAM_ASYNC_OPTIONS_TYPE;
