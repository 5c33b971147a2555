export const MESSAGE_PATTERNS_NOT_SUPPORTED = (patterns: string[]): string =>
  `RedstreamServer: @MessagePattern() is not supported (${patterns.join(', ')}): a stream is a log, not a ` +
  `request/response channel, so nothing could carry a reply back. Use @EventPattern() for these handlers, ` +
  `or serve them with another transport in a hybrid application.`;

export const PATTERN_NOT_A_STREAM = (pattern: string, reason: string): string =>
  `RedstreamServer: @EventPattern(${pattern}) cannot be consumed: the pattern names the stream to read, ` +
  `and ${reason}`;

export const NO_EVENT_PATTERNS = (): string =>
  'RedstreamServer: no @EventPattern() handler in this application, so no stream is consumed';

export const LISTEN_AFTER_CLOSE = (): string => 'RedstreamServer: listen() after close(): create a new RedstreamServer';

export const LISTEN_TWICE = (): string =>
  'RedstreamServer: listen() was called twice; the streams are consumed already';

export const SERVER_MODE_REQUIRED = (got: string): string =>
  `RedstreamServer: pass exactly one of "consumer" (an offset consumer name: one active instance per stream ` +
  `and name, in order) or "group" (a consumer group: every instance works, entries shared out); ${got}`;

export const EVENT_HANDLER_FAILED = (pattern: string, id: string, reason: string): string =>
  `@EventPattern('${pattern}') handler failed on entry ${id}: ${reason}`;

export const DRAIN_TIMED_OUT = (timeoutMs: number, patterns: string[]): string =>
  `RedstreamServer: close(): still stopping after drainTimeoutMs (${timeoutMs} ms): ${patterns.join(', ')}. ` +
  `A batch not committed yet is delivered again; locks expire after lockTtlMs.`;

export const STOP_FAILED = (what: string, reason: string): string =>
  `RedstreamServer: close(): stopping ${what} failed: ${reason}`;

export const SEND_NOT_SUPPORTED = (pattern: string): string =>
  `RedstreamClient: send(${pattern}) is not supported: a stream is a log, not a request/response channel, so no ` +
  `reply could come back. Use emit() for events, or another transport for request/response.`;

export const EMIT_DATA_NOT_AN_OBJECT = (pattern: string, got: string): string =>
  `RedstreamClient: emit(${pattern}) needs a JSON object as data (it becomes the stream entry's payload), got ${got}`;

export const CLIENT_NOT_CONNECTED = (): string =>
  'RedstreamClient: not connected; call connect() (emit() connects on its own) before unwrap()';
