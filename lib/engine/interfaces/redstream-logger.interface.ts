import type { RedstreamLogRecord } from '../redstream-log-record';

/** The levels the engine logs at, named as the methods of {@link RedstreamLogger}. */
export type RedstreamLogLevel = 'log' | 'warn' | 'error' | 'debug';

/**
 * What a line is about, besides its text: set where the line knows it (a worker's own stream
 * and name on every line it writes, ids and attempt on the lines about a batch).
 */
export interface RedstreamLogFields {
  /** The kind of worker that wrote the line. */
  worker?: 'consumer' | 'delayer' | 'group-consumer' | 'trimmer';
  /** The stream the worker serves (for the Delayer: the stream it re-queues to, not `<stream>.delay`). */
  stream?: string;
  /** The consumer's name (`delayer` for the Delayer). */
  consumer?: string;
  /** A group consumer's group. */
  group?: string;
  /** A group consumer's member (its consumer name in Redis). */
  member?: string;
  /** The entry the line is about, or the first and last of a batch: `1700000000000-0..1700000000100-3`. */
  ids?: string;
  /** The attempt at the same batch (or of the loop), from 1, on the lines of a run of failures. */
  attempt?: number;
}

/**
 * Where the engine logs. Nest's `Logger` and `LoggerService` fit as they are; so does `console`.
 *
 * Each line is a text (the first argument of `log`, `warn`, `error` or `debug`; a stack may
 * follow). A logger that also has `write` gets every line of the engine's workers there
 * instead, as one {@link RedstreamLogRecord}: the text as `msg` and the context as fields
 * (`stream`, `consumer`, `ids`, `attempt`...), for a JSON logger to keep as fields.
 */
export interface RedstreamLogger {
  log(message: string, ...optionalParams: unknown[]): void;
  warn(message: string, ...optionalParams: unknown[]): void;
  error(message: string, ...optionalParams: unknown[]): void;
  debug?(message: string, ...optionalParams: unknown[]): void;
  /**
   * Optional: receives each line with its fields instead of the method of its level. The Nest
   * module gives Nest's `Logger` one that passes the record as the message, which Nest's
   * ConsoleLogger prints as a readable line and nestjs-pino as JSON fields.
   */
  write?(level: RedstreamLogLevel, record: RedstreamLogRecord): void;
}
