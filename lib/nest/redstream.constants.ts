/** `host.getType()` of a Redstream handler's execution context, for guards, interceptors and filters. */
export const REDSTREAM_CONTEXT_TYPE = 'redstream';

export const REDSTREAM_MODULE_OPTIONS = 'REDSTREAM_MODULE_OPTIONS';
export const REDSTREAM_RESOLVED_OPTIONS = 'REDSTREAM_RESOLVED_OPTIONS';
export const REDSTREAM_CONSUMER_METADATA = 'REDSTREAM_CONSUMER_METADATA';
export const REDSTREAM_DELAYER_METADATA = 'REDSTREAM_DELAYER_METADATA';
export const REDSTREAM_GROUP_CONSUMER_METADATA = 'REDSTREAM_GROUP_CONSUMER_METADATA';
export const REDSTREAM_EVENT_LISTENER_METADATA = 'REDSTREAM_EVENT_LISTENER_METADATA';

export const DEFAULT_LOGGER_CONTEXT = 'Redstream';

/** How long `requireRedisAtBootstrap` waits for Redis to answer PING, in ms. */
export const DEFAULT_BOOTSTRAP_PING_TIMEOUT_MS = 5_000;
