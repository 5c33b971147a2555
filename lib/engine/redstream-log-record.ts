import { inspect } from 'node:util';
import type { RedstreamLogFields } from './interfaces/redstream-logger.interface';

const FIELD_ORDER = ['worker', 'stream', 'consumer', 'group', 'member', 'ids', 'attempt'] as const;

/**
 * One line of the engine with its context, for {@link RedstreamLogger.write}. Its own fields
 * are plain data (`msg`, then whichever of `stream`, `consumer`, `ids`, `attempt`... the line
 * knows, and `stack` on an error with one), so a JSON logger that copies the object's fields
 * (pino, nestjs-pino, Nest's ConsoleLogger with `json: true`) keeps each as a field. As text
 * (`String(record)`, `util.inspect`: console, Nest's ConsoleLogger) it reads as a line, the
 * message with its fields in parentheses, then the stack; `msg` alone is what text loggers get.
 */
export class RedstreamLogRecord implements RedstreamLogFields {
  /** The text of the line, as text loggers get it. Named as pino names its message key. */
  readonly msg: string;
  readonly worker?: RedstreamLogFields['worker'];
  readonly stream?: string;
  readonly consumer?: string;
  readonly group?: string;
  readonly member?: string;
  readonly ids?: string;
  readonly attempt?: number;
  /** The error's stack, on error lines that have one (text loggers get it as the second argument). */
  readonly stack?: string;

  constructor(msg: string, fields: RedstreamLogFields & { stack?: string } = {}) {
    this.msg = msg;
    // Only the fields the line has: a JSON line shows no `"ids": null` on lines without ids.
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) Object.assign(this, { [key]: value });
    }
  }

  /** The fields other than `msg` and `stack`. */
  get fields(): RedstreamLogFields {
    const fields: Record<string, unknown> = {};
    for (const key of FIELD_ORDER) if (this[key] !== undefined) fields[key] = this[key];
    return fields as RedstreamLogFields;
  }

  /**
   * `msg (stream=products consumer=indexer ids=1-0..5-0 attempt=3)`, then the stack on its own
   * lines: what a logger that prints objects as text shows (Nest 10's ConsoleLogger converts
   * the message to a string, Nest 11's inspects it).
   */
  toString(): string {
    const context = FIELD_ORDER.filter((key) => this[key] !== undefined)
      .map((key) => `${key}=${String(this[key])}`)
      .join(' ');
    const line = context ? `${this.msg} (${context})` : this.msg;
    return this.stack ? `${line}\n${this.stack}` : line;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** `first..last` of a batch's ids, or the one id. */
export function idRange(ids: readonly { id: string }[] | readonly string[]): string | undefined {
  if (ids.length === 0) return undefined;
  const first = ids[0];
  const last = ids[ids.length - 1];
  const idOf = (entry: { id: string } | string): string => (typeof entry === 'string' ? entry : entry.id);
  return ids.length === 1 ? idOf(first) : `${idOf(first)}..${idOf(last)}`;
}
