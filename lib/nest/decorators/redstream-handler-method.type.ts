import type { RedstreamMessage } from '../../engine';
import type { RedstreamHandlerContext } from '../interfaces/redstream-handler-context.interface';

/**
 * A method the Redstream decorators accept: it takes the batch and optionally the handler
 * context; its result may be a promise. With a stream given by name (`TPayload` `never`) the
 * batch may be declared as `RedstreamMessage<T>[]` for any `T`; with a stream definition it
 * must accept the definition's payload type (`RedstreamMessage<{ id: string }>[]` does not
 * compile for a stream of `{ id: number }`).
 */
export type RedstreamHandlerMethod<TPayload extends object = never> = (
  messages: RedstreamMessage<TPayload>[],
  context: RedstreamHandlerContext,
) => unknown;

/** The decorator type of {@link RedstreamConsumer}, {@link RedstreamGroupConsumer} and {@link RedstreamDelayer}. */
export type RedstreamHandlerDecorator<TPayload extends object = never> = <
  TMethod extends RedstreamHandlerMethod<TPayload>,
>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<TMethod>,
) => void;
