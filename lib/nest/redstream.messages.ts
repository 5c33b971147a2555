export type HandlerDecoratorName = '@RedstreamConsumer' | '@RedstreamGroupConsumer' | '@RedstreamDelayer';

/** Every decorator the explorer looks for. */
export type RedstreamDecoratorName = HandlerDecoratorName | '@OnRedstreamEvent';

export const MISSING_OPTION = (decorator: HandlerDecoratorName, where: string, option: string): string =>
  `${decorator}() on ${where} has no "${option}": pass it in the decorator's options.`;

export const INVALID_HANDLER_OPTIONS = (decorator: HandlerDecoratorName, where: string, reason: string): string =>
  `${decorator}() on ${where} is invalid: ${reason}`;

export const DUPLICATE_CONSUMER = (stream: string, name: string, first: string, second: string): string =>
  `Two handlers consume stream "${stream}" as "${name}": ${first} and ${second}. ` +
  `Only one handler per (stream, name) may run in an application; give one of them another name.`;

export const DUPLICATE_GROUP_CONSUMER = (stream: string, group: string, first: string, second: string): string =>
  `Two handlers read stream "${stream}" in group "${group}": ${first} and ${second}. ` +
  `Only one handler per (stream, group) may run in an application; raise its concurrency or give one another group.`;

export const GROUP_NAMED_LIKE_CONSUMER = (
  stream: string,
  name: string,
  consumer: string,
  groupConsumer: string,
): string =>
  `Stream "${stream}" has a consumer and a consumer group both named "${name}": @RedstreamConsumer() on ` +
  `${consumer} and @RedstreamGroupConsumer() on ${groupConsumer}. The handlers option and RedstreamRegistry ` +
  `key both as "${stream}:${name}"; rename one of them.`;

export const DUPLICATE_DELAYER = (stream: string, first: string, second: string): string =>
  `Two delayers serve stream "${stream}": ${first} and ${second}. A stream has one delayer per application.`;

export const RESERVED_CONSUMER_NAME = (decorator: HandlerDecoratorName, where: string, name: string): string =>
  `${decorator}() on ${where} uses the name "${name}", which the handlers option and RedstreamRegistry ` +
  `reserve for a stream's delayer; choose another ${decorator === '@RedstreamGroupConsumer' ? 'group' : 'consumer name'}.`;

export const REQUEST_SCOPED_HANDLER = (decorator: RedstreamDecoratorName, where: string): string =>
  `${decorator}() on ${where} cannot be used: the provider is request-scoped (or depends on a request-scoped ` +
  `provider), but stream handlers run outside any request. Make the provider a singleton.`;

export const TRANSIENT_HANDLER = (decorator: RedstreamDecoratorName, where: string): string =>
  `${decorator}() on ${where} cannot be used: the provider is transient, so every consumer of it gets its own ` +
  `instance and none is the one to run stream handlers on. Make the provider a singleton.`;

export const INVALID_MODULE_OPTION = (option: string, reason: string): string =>
  `RedstreamModule: option "${option}" is invalid: ${reason}`;

export const FOREIGN_HANDLER_OVERRIDE = (kind: string, option: string): string =>
  `a ${kind.replace('-', ' ')} has no ${option}`;

export const UNMATCHED_HANDLER_OVERRIDE = (key: string, known: string[]): string =>
  `RedstreamModule: handlers["${key}"] matches no @RedstreamConsumer()/@RedstreamGroupConsumer()/@RedstreamDelayer() ` +
  `in this application` +
  (known.length > 0 ? ` (known: ${known.join(', ')})` : '');

export const BACKGROUND_SERVICES_DISABLED = (handlers: number): string =>
  `backgroundServices is false: ${handlers} stream handler(s) found but not started; this process only produces`;

export const DRAIN_TIMED_OUT = (timeoutMs: number, busy: string[]): string =>
  `Shutdown: handlers still running after drainTimeoutMs (${timeoutMs} ms): ${busy.join(', ')}. ` +
  `Their batches stay uncommitted and are delivered again after the lock expires.`;

export const STOP_TIMED_OUT_WITHOUT_HANDLERS = (timeoutMs: number, workers: string[]): string =>
  `Shutdown: no handler is running, but Redis did not answer within drainTimeoutMs (${timeoutMs} ms) while ` +
  `stopping ${workers.join(', ')}. An uncommitted batch is delivered again; locks expire after lockTtlMs.`;

export const STOP_FAILED = (reason: string): string => `Shutdown: stopping the background services failed: ${reason}`;

export const UNKNOWN_WORKER = (stream: string, name: string): string =>
  `RedstreamRegistry: no consumer "${name}" (nor group of that name, nor delayer) on stream "${stream}" in this application`;

export const REDIS_UNREACHABLE_AT_BOOTSTRAP = (connection: string, timeoutMs: number, reason: string): string =>
  `RedstreamModule: Redis at ${connection} did not answer PING within ${timeoutMs} ms at bootstrap ` +
  `(requireRedisAtBootstrap): ${reason}`;

export const UNKNOWN_WORKER_EVENT = (where: string, event: string, known: string[]): string =>
  `@OnRedstreamEvent('${event}') on ${where}: no such worker event; known: ${known.join(', ')}.`;

export const MISSING_EVENT_OPTION = (event: string, where: string, option: string): string =>
  `@OnRedstreamEvent('${event}') on ${where} has no "${option}": pass { stream, name } in its options.`;

export const UNMATCHED_EVENT_LISTENER = (
  event: string,
  where: string,
  stream: string,
  name: string,
  known: string[],
): string =>
  `@OnRedstreamEvent('${event}') on ${where} listens to "${stream}:${name}", but no @RedstreamConsumer(), ` +
  `@RedstreamGroupConsumer() or @RedstreamDelayer() (name "delayer") of this application reads stream "${stream}" ` +
  `as "${name}"` +
  (known.length > 0 ? ` (known: ${known.join(', ')})` : ' (this application has no stream handlers)') +
  '.';

export const EVENT_LISTENER_FAILED = (event: string, where: string, reason: string, count: number): string =>
  `@OnRedstreamEvent('${event}') on ${where} threw: ${reason}; the worker goes on` +
  (count > 1 ? ` (${count} times so far)` : '');
