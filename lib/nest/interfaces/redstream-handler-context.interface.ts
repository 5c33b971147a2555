/**
 * The second argument of every Redstream handler, and `switchToRpc().getContext()` in guards,
 * interceptors and filters: which worker called.
 */
export interface RedstreamHandlerContext {
  /** `consumer` for a {@link RedstreamConsumer} batch, `delayer` for due delay messages. */
  readonly kind: 'consumer' | 'delayer';
  /** The stream name, e.g. `products`. */
  readonly stream: string;
  /** The consumer name (`delayer` for a delayer). */
  readonly name: string;
}
