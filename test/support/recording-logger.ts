import type { RedstreamLogFields, RedstreamLogger, RedstreamLogLevel, RedstreamLogRecord } from '../../lib/engine';

/** One captured log call. */
export interface LogLine {
  level: 'log' | 'warn' | 'error' | 'debug';
  message: string;
  /** What was passed after the message (a stack, a context); a record's stack. */
  params: unknown[];
  /** The line's context, when it came as a record (`write`): stream, consumer, ids, attempt... */
  fields?: RedstreamLogFields;
}

/**
 * A logger that keeps every line, so tests can assert that a fault was reported and how. Takes
 * the engine's lines as records (`write`), keeping their fields; `{ text: true }` makes it a
 * logger without `write`, which gets the text (and stack) as before.
 */
export class RecordingLogger implements RedstreamLogger {
  readonly lines: LogLine[] = [];
  readonly write?: (level: RedstreamLogLevel, record: RedstreamLogRecord) => void;

  constructor(options: { text?: boolean } = {}) {
    if (!options.text) {
      this.write = (level, record) =>
        this.lines.push({
          level,
          message: record.msg,
          params: record.stack === undefined ? [] : [record.stack],
          fields: record.fields,
        });
    }
  }

  log(message: string, ...params: unknown[]): void {
    this.lines.push({ level: 'log', message, params });
  }

  warn(message: string, ...params: unknown[]): void {
    this.lines.push({ level: 'warn', message, params });
  }

  error(message: string, ...params: unknown[]): void {
    this.lines.push({ level: 'error', message, params });
  }

  debug(message: string, ...params: unknown[]): void {
    this.lines.push({ level: 'debug', message, params });
  }

  /** The messages logged at `level`, in order. */
  messages(level: LogLine['level']): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }

  get warnings(): string[] {
    return this.messages('warn');
  }

  get errors(): string[] {
    return this.messages('error');
  }

  /** Lines of `level` whose message matches `pattern`. */
  matching(level: LogLine['level'], pattern: RegExp): LogLine[] {
    return this.lines.filter((line) => line.level === level && pattern.test(line.message));
  }
}
