import type { RedstreamLogger } from '../../lib/engine';

/** One captured log call. */
export interface LogLine {
  level: 'log' | 'warn' | 'error' | 'debug';
  message: string;
  /** What was passed after the message (a stack, a context). */
  params: unknown[];
}

/** A logger that keeps every line, so tests can assert that a fault was reported and how. */
export class RecordingLogger implements RedstreamLogger {
  readonly lines: LogLine[] = [];

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
