import { SetMetadata } from '@nestjs/common';
import type { RedstreamGroupConsumerOptions } from '../interfaces/redstream-group-consumer-options.interface';
import { REDSTREAM_GROUP_CONSUMER_METADATA } from '../redstream.constants';
import type { RedstreamHandlerDecorator } from './redstream-handler-method.type';

/**
 * Makes a method of a provider (or controller) a member of the Redis consumer group `group`
 * on `stream`: every instance in every process is active at once and they share the entries.
 * The method is called with each batch, `messages: RedstreamMessage<T>[]`, and the batch is
 * acked once it resolves; a throw retries it (in smaller parts, to isolate entries that fail
 * on their own) and an entry delivered `maxDeliveries` times goes to `<stream>.dead`.
 * Unlike `@RedstreamConsumer`, order across the stream is not kept and the gem does not read
 * the group: use it for parallelism and per-entry recovery.
 *
 * Same discovery, lifecycle, external context (guards, interceptors, exception filters with
 * `host.getType() === 'redstream'`; the context has `kind: 'group-consumer'`, `group` and
 * `member`) and `handlers` overrides (keyed `'<stream>:<group>'`) as `@RedstreamConsumer`.
 *
 * @example
 * ```ts
 * @RedstreamGroupConsumer({ stream: 'emails', group: 'senders', concurrency: 4 })
 * async send(messages: RedstreamMessage<{ id: number }>[]) {
 *   await this.mailer.sendAll(messages.map((message) => message.payload.id));
 * }
 * ```
 */
export function RedstreamGroupConsumer<TPayload extends object = never>(
  options: RedstreamGroupConsumerOptions<TPayload>,
): RedstreamHandlerDecorator<TPayload> {
  return (target, propertyKey, descriptor) => {
    SetMetadata(REDSTREAM_GROUP_CONSUMER_METADATA, { ...options })(target, propertyKey, descriptor);
  };
}
