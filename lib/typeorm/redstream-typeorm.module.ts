import { DynamicModule, InjectionToken, Logger, Module, ModuleMetadata, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Producer } from '../engine';
import type { RedstreamSubscriberOptions } from './interfaces/redstream-subscriber-options.interface';
import { RedstreamSubscriber } from './redstream.subscriber';

/** Options of {@link RedstreamTypeOrmModule.forRoot}. */
export interface RedstreamTypeOrmModuleOptions extends RedstreamSubscriberOptions {
  /**
   * Token of the (initialized) DataSource to attach to. Default: the `DataSource` class, under
   * which `@nestjs/typeorm` provides its default connection; for a named one pass
   * `getDataSourceToken('name')`.
   */
  dataSource?: InjectionToken;
  /** Token of the Producer to write with. Default: the `Producer` class that `RedstreamModule` provides. */
  producer?: InjectionToken;
  /** Modules that provide the DataSource and Producer, if they are not global. */
  imports?: ModuleMetadata['imports'];
}

const SUBSCRIBER_ATTACHMENT = Symbol('RedstreamSubscriberAttachment');

/**
 * Attaches a {@link RedstreamSubscriber} to the application's TypeORM DataSource, so that
 * every `@RedstreamEntity` writes its messages, and detaches it on shutdown. Import it once,
 * next to `TypeOrmModule.forRoot()` and `RedstreamModule.forRoot()`; it injects the
 * DataSource and the Producer those provide.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     TypeOrmModule.forRoot({ type: 'postgres', ..., entities: [Product] }),
 *     RedstreamModule.forRoot({ redis: process.env.REDIS_URL }),
 *     RedstreamTypeOrmModule.forRoot(),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class RedstreamTypeOrmModule {
  static forRoot(options: RedstreamTypeOrmModuleOptions = {}): DynamicModule {
    const { dataSource = DataSource, producer = Producer, imports = [], ...subscriberOptions } = options;
    return {
      module: RedstreamTypeOrmModule,
      imports,
      providers: [
        {
          provide: RedstreamSubscriber,
          inject: [producer, dataSource],
          useFactory: (writer: Producer, source: DataSource) =>
            new RedstreamSubscriber(writer, {
              logger: new Logger('RedstreamTypeOrm'),
              ...subscriberOptions,
            }).attach(source),
        },
        {
          provide: SUBSCRIBER_ATTACHMENT,
          inject: [RedstreamSubscriber, dataSource],
          useFactory: (subscriber: RedstreamSubscriber, source: DataSource): OnModuleDestroy => ({
            onModuleDestroy: () => subscriber.detach(source),
          }),
        },
      ],
      exports: [RedstreamSubscriber],
    };
  }
}
