/**
 * The transport id of {@link RedstreamServer}: pass it to `@EventPattern('products', REDSTREAM_TRANSPORT)`
 * to bind a handler to this transport only in an application with several. A registered symbol,
 * so that two copies of this package still agree on it.
 */
export const REDSTREAM_TRANSPORT: unique symbol = Symbol.for('@redstream/nestjs/microservices');

/** The logger context of the transport's own lines (and the engine's, unless `logger` says otherwise). */
export const REDSTREAM_TRANSPORT_LOGGER_CONTEXT = 'RedstreamTransport';
