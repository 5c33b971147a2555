import { SetMetadata } from '@nestjs/common';
import type {
  OnRedstreamEventOptions,
  RedstreamWorkerEventArgs,
  RedstreamWorkerEventName,
} from '../interfaces/redstream-worker-event.interface';
import { REDSTREAM_EVENT_LISTENER_METADATA } from '../redstream.constants';

/** What one `@OnRedstreamEvent` recorded on a method. */
export interface RedstreamEventListenerMetadata {
  readonly event: RedstreamWorkerEventName;
  readonly options: OnRedstreamEventOptions;
}

/** The decorator type of {@link OnRedstreamEvent}: the method must take the event's arguments. */
export type RedstreamEventListenerDecorator<TEvent extends RedstreamWorkerEventName> = <
  TMethod extends (...args: RedstreamWorkerEventArgs[TEvent]) => unknown,
>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<TMethod>,
) => void;

/**
 * Calls the method on each `event` of the worker that runs handler `name` of `stream` in this
 * application (as `@OnWorkerEvent` of `@nestjs/bullmq` does): a consumer, a group consumer
 * (`name` is the group) or the delayer (`name: 'delayer'`). The method receives the event's
 * arguments (see {@link RedstreamWorkerEventArgs}). A stream and name that match no handler
 * fail the bootstrap. A method that throws or rejects is logged; the worker goes on. A method
 * may carry several of these; the listener stays attached across `stop()` and `start()`.
 *
 * @example
 * ```ts
 * @OnRedstreamEvent('failed', { stream: Products, name: 'indexer' })
 * onIndexerFailed(error: Error, retryInMs: number) {
 *   this.metrics.increment('indexer.failures');
 * }
 * ```
 */
export function OnRedstreamEvent<TEvent extends RedstreamWorkerEventName>(
  event: TEvent,
  options: OnRedstreamEventOptions,
): RedstreamEventListenerDecorator<TEvent> {
  return (target, propertyKey, descriptor) => {
    const method = descriptor.value as unknown;
    const recorded: readonly RedstreamEventListenerMetadata[] =
      (typeof method === 'function' && Reflect.getMetadata(REDSTREAM_EVENT_LISTENER_METADATA, method)) || [];
    const listeners: RedstreamEventListenerMetadata[] = [...recorded, { event, options: { ...options } }];
    SetMetadata(REDSTREAM_EVENT_LISTENER_METADATA, listeners)(target, propertyKey, descriptor);
  };
}
