import type { RedstreamMessage } from '../../engine';
import type { RedstreamHandlerContext } from '../interfaces/redstream-handler-context.interface';

/**
 * A method the Redstream decorators accept: it takes the batch (`RedstreamMessage<T>[]` for
 * any payload type `T`) and optionally the handler context; its result may be a promise.
 */
export type RedstreamHandlerMethod = (messages: RedstreamMessage<never>[], context: RedstreamHandlerContext) => unknown;

/** The decorator type of {@link RedstreamConsumer}, {@link RedstreamGroupConsumer} and {@link RedstreamDelayer}. */
export type RedstreamHandlerDecorator = <TMethod extends RedstreamHandlerMethod>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<TMethod>,
) => void;
