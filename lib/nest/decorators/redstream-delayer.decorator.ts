import { SetMetadata } from '@nestjs/common';
import type { RedstreamDelayerOptions } from '../interfaces/redstream-delayer-options.interface';
import { REDSTREAM_DELAYER_METADATA } from '../redstream.constants';
import type { RedstreamHandlerDecorator } from './redstream-handler-method.type';

/**
 * Runs the Delayer of a stream and calls the method with each batch of due delay messages
 * just before they are re-queued (for metrics or logs). The messages are re-queued whatever
 * the method does: healing must not depend on an observer, so its errors are only logged.
 *
 * @example
 * ```ts
 * @RedstreamDelayer({ stream: 'products', delay: '5m' })
 * onDue(messages: RedstreamMessage[]) {
 *   this.metrics.increment('products.redelivered', messages.length);
 * }
 * ```
 */
export function RedstreamDelayer(options: RedstreamDelayerOptions): RedstreamHandlerDecorator {
  return (target, propertyKey, descriptor) => {
    SetMetadata(REDSTREAM_DELAYER_METADATA, { ...options })(target, propertyKey, descriptor);
  };
}
