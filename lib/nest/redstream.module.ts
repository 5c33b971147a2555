import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Producer, Redstream } from '../engine';
import {
  ConfigurableRedstreamModule,
  RedstreamModuleAsyncOptions,
  RedstreamModuleForRootOptions,
} from './redstream.module-definition';
import { RedstreamConnectionVerifier } from './redstream-connection.verifier';
import { RedstreamEventBinder } from './redstream-event.binder';
import { RedstreamExplorer } from './redstream.explorer';
import { RedstreamHandlerOptionsResolver } from './redstream-handler-options.resolver';
import { RedstreamHandlerInvoker } from './redstream-handler.invoker';
import { RedstreamMetadataAccessor } from './redstream-metadata.accessor';
import { RedstreamOrchestrator } from './redstream.orchestrator';
import { redstreamProviders } from './redstream.providers';
import { RedstreamRegistry } from './redstream.registry';
import { RedstreamWorkerFactory } from './redstream-worker.factory';

/**
 * Redis streams for Nest: an injectable `Producer`, and consumers, delayers and trimmers that
 * run the methods decorated with `@RedstreamConsumer()` / `@RedstreamDelayer()` along the
 * application's lifecycle. Import it once, in the root module.
 *
 * @example
 * ```ts
 * @Module({ imports: [RedstreamModule.forRoot({ redis: 'redis://localhost:6379' })] })
 * export class AppModule {}
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    ...redstreamProviders,
    RedstreamMetadataAccessor,
    RedstreamHandlerOptionsResolver,
    RedstreamHandlerInvoker,
    RedstreamWorkerFactory,
    RedstreamRegistry,
    RedstreamEventBinder,
    RedstreamExplorer,
    RedstreamOrchestrator,
    RedstreamConnectionVerifier,
  ],
  exports: [Producer, Redstream, RedstreamRegistry],
})
export class RedstreamModule extends ConfigurableRedstreamModule {
  /** Registers the module with options known up front; global unless `isGlobal: false`. */
  static override forRoot(options: RedstreamModuleForRootOptions): DynamicModule {
    return super.forRoot(options);
  }

  /**
   * Registers the module with options from a factory, e.g. from `ConfigService`:
   * `forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (config) => ({ redis: config.get('REDIS_URL') }) })`.
   */
  static override forRootAsync(options: RedstreamModuleAsyncOptions): DynamicModule {
    return super.forRootAsync(options);
  }
}
