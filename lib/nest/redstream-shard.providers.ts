import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import type { RedstreamMessage, RedstreamShards } from '../engine';
import { RedstreamConsumer, RedstreamDelayer } from './decorators';
import type { RedstreamHandlerDecorator, RedstreamHandlerMethod } from './decorators';
import type { RedstreamConsumerOptions } from './interfaces/redstream-consumer-options.interface';
import type { RedstreamDelayerOptions } from './interfaces/redstream-delayer-options.interface';
import type { RedstreamHandlerContext } from './interfaces/redstream-handler-context.interface';

/** The names of `T`'s methods that can handle a batch. */
export type RedstreamHandlerMethodName<T> = {
  [K in keyof T]: T[K] extends RedstreamHandlerMethod ? K : never;
}[keyof T] &
  string;

/** Options of {@link redstreamShardConsumers}. */
export interface RedstreamShardConsumerOptions<T> extends Omit<RedstreamConsumerOptions, 'stream'> {
  /** The provider (class or token) whose method handles the batches of every shard. */
  handler: InjectionToken<T>;
  /** The method to call: `(messages, context) => ...`, not decorated itself. */
  method: RedstreamHandlerMethodName<T>;
}

/** Options of {@link redstreamShardDelayers}. */
export interface RedstreamShardDelayerOptions<T> extends Omit<RedstreamDelayerOptions, 'stream'> {
  /** Optional observer of each shard's due messages (as a `@RedstreamDelayer` method is). */
  handler?: InjectionToken<T>;
  method?: RedstreamHandlerMethodName<T>;
}

/**
 * One `@RedstreamConsumer` per shard stream, all calling one method of one provider: add the
 * returned providers to a module. `RedstreamModule` then runs a consumer per shard (one
 * active instance per shard across processes, the shards spread evenly over the instances:
 * the shard group `<base>:<name>`, `shardGroup: false` to turn balancing off) and a trimmer
 * per shard stream.
 *
 * @example
 * ```ts
 * @Module({
 *   providers: [
 *     ProductIndexer, // index(messages: RedstreamMessage<{ id: number }>[]) { ... }, not decorated
 *     ...redstreamShardConsumers(PRODUCT_SHARDS, { name: 'indexer', handler: ProductIndexer, method: 'index' }),
 *     ...redstreamShardDelayers(PRODUCT_SHARDS, { delay: '5m' }),
 *   ],
 * })
 * export class SearchModule {}
 * ```
 */
export function redstreamShardConsumers<T>(
  shards: RedstreamShards,
  options: RedstreamShardConsumerOptions<T>,
): FactoryProvider[] {
  const { handler, method, ...consumerOptions } = options;
  const shardGroup = shards.consumerGroup(consumerOptions.name, consumerOptions.shardGroup);
  return shards.streams.map((stream) => ({
    provide: `RedstreamShardConsumer:${stream}:${consumerOptions.name}`,
    inject: [handler],
    useFactory: (target: T) =>
      shardHandler(
        `${tokenName(handler)}[${stream}]`,
        target,
        method,
        RedstreamConsumer({ ...consumerOptions, shardGroup, stream }),
      ),
  }));
}

/** One `@RedstreamDelayer` per shard stream (optionally calling an observer method). */
export function redstreamShardDelayers<T = never>(
  shards: RedstreamShards,
  options: RedstreamShardDelayerOptions<T>,
): FactoryProvider[] {
  const { handler, method, ...delayerOptions } = options;
  const shardGroup = shards.delayerGroup(delayerOptions.shardGroup);
  return shards.streams.map((stream) => ({
    provide: `RedstreamShardDelayer:${stream}`,
    inject: handler ? [handler] : [],
    useFactory: (target?: T) =>
      shardHandler(
        `RedstreamShardDelayer[${stream}]`,
        target,
        method,
        RedstreamDelayer({ ...delayerOptions, shardGroup, stream }),
      ),
  }));
}

// Nest's explorer reads the decorators' metadata from the method function, so every shard
// gets an object of a class of its own, named after the shard for logs and errors.
function shardHandler<T>(
  name: string,
  target: T | undefined,
  method: RedstreamHandlerMethodName<T> | undefined,
  decorator: RedstreamHandlerDecorator,
): object {
  const call = target && method ? (target[method] as RedstreamHandlerMethod).bind(target) : undefined;
  const shardClass = class {
    handle(messages: RedstreamMessage<never>[], context: RedstreamHandlerContext): unknown {
      return call?.(messages, context);
    }
  };
  Object.defineProperty(shardClass, 'name', { value: name });
  const descriptor = Object.getOwnPropertyDescriptor(shardClass.prototype, 'handle');
  if (descriptor) decorator(shardClass.prototype, 'handle', descriptor);
  return new shardClass();
}

function tokenName(token: InjectionToken): string {
  return typeof token === 'function' ? token.name : String(token);
}
