// The NestJS layer: RedstreamModule, the decorators and the registry.
export * from './decorators';
export * from './interfaces/redstream-consumer-options.interface';
export * from './interfaces/redstream-delayer-options.interface';
export * from './interfaces/redstream-group-consumer-options.interface';
export * from './interfaces/redstream-handler-context.interface';
export * from './interfaces/redstream-module-options.interface';
export * from './interfaces/redstream-worker-event.interface';
export { REDSTREAM_CONTEXT_TYPE, REDSTREAM_MODULE_OPTIONS } from './redstream.constants';
export type {
  RedstreamModuleAsyncOptions,
  RedstreamModuleExtras,
  RedstreamModuleForRootOptions,
} from './redstream.module-definition';
export * from './redstream.module';
export * from './redstream.registry';
export * from './redstream-shard.providers';
