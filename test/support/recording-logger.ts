import type { RedstreamLogger } from '../../lib/engine';

/** One captured log call. */
export interface LogLine {
  level: 'log' | 'warn' | 'error' | 'debug';
  message: string;
}

/** A logger that keeps every line, so tests can assert that a fault was reported and how. */
export class RecordingLogger implements RedstreamLogger {
  readonly lines: LogLine[] = [];

  log(message: string): void {
    this.lines.push({ level: 'log', message });
  }

  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }

  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }

  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
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
