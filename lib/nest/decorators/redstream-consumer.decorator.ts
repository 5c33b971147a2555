import { SetMetadata } from '@nestjs/common';
import type { RedstreamConsumerOptions } from '../interfaces/redstream-consumer-options.interface';
import { REDSTREAM_CONSUMER_METADATA } from '../redstream.constants';
import type { RedstreamHandlerDecorator } from './redstream-handler-method.type';

/**
 * Makes a method of a provider (or controller) the handler of a stream consumer: it is called
 * with each batch, `messages: RedstreamMessage<T>[]`, and the batch's offset is committed once
 * it resolves; a throw or rejection retries the same batch after a backoff. One instance per
 * (stream, name) is active across all processes, the others stand by.
 *
 * Handlers run through Nest's external context (type `'redstream'`), so interceptors, guards
 * and exception filters apply, global ones included. A guard that denies fails the batch like
 * a throw (let global HTTP guards pass `context.getType() === 'redstream'`); a filter that
 * returns a value marks the batch as done, one that returns nothing or re-throws retries it.
 *
 * @example
 * ```ts
 * @RedstreamConsumer({ stream: 'products', name: 'indexer', batchSize: 500 })
 * async index(messages: RedstreamMessage<{ id: number }>[]) {
 *   await this.search.bulkIndex(messages.map((message) => message.payload.id));
 * }
 * ```
 */
export function RedstreamConsumer<TPayload extends object = never>(
  options: RedstreamConsumerOptions<TPayload>,
): RedstreamHandlerDecorator<TPayload> {
  return (target, propertyKey, descriptor) => {
    SetMetadata(REDSTREAM_CONSUMER_METADATA, { ...options })(target, propertyKey, descriptor);
  };
}
