import type { Provider } from '@nestjs/common';
import { Producer, Redstream } from '../engine';
import type { RedstreamModuleOptions } from './interfaces/redstream-module-options.interface';
import { REDSTREAM_MODULE_OPTIONS, REDSTREAM_RESOLVED_OPTIONS } from './redstream.constants';
import { resolveModuleOptions, ResolvedRedstreamModuleOptions } from './redstream-module-options.resolver';

/** The engine context, the Producer and the validated options, built from the module options. */
export const redstreamProviders: Provider[] = [
  {
    provide: REDSTREAM_RESOLVED_OPTIONS,
    useFactory: (options: RedstreamModuleOptions) => resolveModuleOptions(options),
    inject: [REDSTREAM_MODULE_OPTIONS],
  },
  {
    provide: Redstream,
    useFactory: ({ redis, namespace, logger, lockExpiryEvents }: ResolvedRedstreamModuleOptions) =>
      new Redstream({ redis, namespace, logger, lockExpiryEvents }),
    inject: [REDSTREAM_RESOLVED_OPTIONS],
  },
  {
    provide: Producer,
    useFactory: (redstream: Redstream, options: ResolvedRedstreamModuleOptions) => redstream.producer(options.producer),
    inject: [Redstream, REDSTREAM_RESOLVED_OPTIONS],
  },
];
