/**
 * The second argument of every Redstream handler, and `switchToRpc().getContext()` in guards,
 * interceptors and filters: which worker called. Narrow it on `kind`.
 */
export type RedstreamHandlerContext = RedstreamWorkerHandlerContext | RedstreamGroupHandlerContext;

/** The context of a {@link RedstreamConsumer} batch or of due delay messages. */
export interface RedstreamWorkerHandlerContext {
  /** `consumer` for a {@link RedstreamConsumer} batch, `delayer` for due delay messages. */
  readonly kind: 'consumer' | 'delayer';
  /** The stream name, e.g. `products`. */
  readonly stream: string;
  /** The consumer name (`delayer` for a delayer). */
  readonly name: string;
}

/** The context of a {@link RedstreamGroupConsumer} batch. */
export interface RedstreamGroupHandlerContext {
  readonly kind: 'group-consumer';
  /** The stream name, e.g. `products`. */
  readonly stream: string;
  /** The group, as in the `handlers` key `'<stream>:<group>'`. */
  readonly name: string;
  /** The Redis consumer group that read the batch (same as `name`). */
  readonly group: string;
  /** This instance's member name in the group (host, pid and a random part). */
  readonly member: string;
}
