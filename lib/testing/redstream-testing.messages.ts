// Every error text of the testing helpers, as functions, so that tests can match them.

/** `drain()` was given an application without RedstreamModule. */
export const NO_REGISTRY = (): string =>
  'redstreamTesting.drain: the application has no RedstreamRegistry: import RedstreamModule.forRoot() (or forRootAsync()) in it';

/** Nothing of that name reads `stream` in this application. */
export const UNKNOWN_DRAIN_TARGET = (stream: string, name: string, running: readonly string[]): string =>
  `redstreamTesting.drain: no consumer or group consumer '${name}' on stream '${stream}' runs in this application ` +
  `(running: ${running.length > 0 ? running.join(', ') : 'none'})`;

/** The handler is declared but its worker is not built in this process. */
export const DRAIN_TARGET_NOT_RUNNING = (stream: string, name: string, where: string): string =>
  `redstreamTesting.drain: '${stream}:${name}' (${where}) does not run in this application ` +
  '(disabled by its options, or backgroundServices: false): nothing here would ever handle the stream';

/** `drain(app, stream, 'delayer')`: the Delayer re-queues, it does not handle. */
export const DRAIN_DELAYER = (stream: string): string =>
  `redstreamTesting.drain: 'delayer' is the Delayer of '${stream}', not a consumer: drain a consumer of the stream ` +
  'and pass { includeDelayed: true } to wait for the delay messages too';

/** `includeDelayed` without a Delayer of the stream in this application. */
export const NO_DELAYER = (stream: string): string =>
  `redstreamTesting.drain: includeDelayed needs the Delayer of '${stream}' running in this application (@RedstreamDelayer), ` +
  'and there is none';

/** A drain option is invalid. */
export const INVALID_DRAIN_OPTION = (reason: string): string => `redstreamTesting.drain: ${reason}`;

/** `flushNamespace()` without a namespace would delete the un-namespaced keys of every application. */
export const FLUSH_WITHOUT_NAMESPACE = (): string =>
  'redstreamTesting.flushNamespace: a non-empty namespace is required (it deletes every key under "<namespace>:redstream:")';

/** `uniqueNamespace()` with a prefix that no namespace may contain. */
export const INVALID_NAMESPACE_PREFIX = (prefix: string, reason: string): string =>
  `redstreamTesting.uniqueNamespace: prefix ${JSON.stringify(prefix)} cannot start a namespace: ${reason}`;

/** Where a drain stopped waiting, in words. */
export const DRAIN_TIMED_OUT = (
  timeoutMs: number,
  what: string,
  reached: string,
  namespace: string | undefined,
): string =>
  `redstreamTesting.drain: timed out after ${timeoutMs} ms waiting for ${what}` +
  `${namespace ? ` (namespace '${namespace}')` : ''}; ${reached}`;
