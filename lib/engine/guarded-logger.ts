import { describeFailure } from './failure-reporter';
import type { RedstreamLogFields, RedstreamLogger, RedstreamLogLevel } from './interfaces/redstream-logger.interface';
import { RedstreamLogRecord } from './redstream-log-record';

/**
 * Wraps an application's logger so that a logger which throws can never take a worker down
 * (the throw would otherwise escape the worker's catch, or a timer's callback, and leave the
 * process as an uncaught exception). A line the logger failed on goes to `console.error`,
 * with why.
 *
 * It also gives every line its context: `base` (the worker's stream and name) and the fields
 * an engine call passes as its last argument (`logger.warn(text, { ids })`). A logger with
 * `write` gets both as one {@link RedstreamLogRecord}; any other gets the text and the stack
 * as before, the fields left out.
 */
export function guardLogger(logger: RedstreamLogger, base: RedstreamLogFields = {}): RedstreamLogger {
  const emit = (level: RedstreamLogLevel, record: RedstreamLogRecord): void => {
    try {
      if (typeof logger.write === 'function') logger.write(level, record);
      else logger[level]?.(record.msg, ...(record.stack === undefined ? [] : [record.stack]));
    } catch (error) {
      try {
        console.error(`[redstream] (the logger threw on a ${level} line: ${describeFailure(error)})`, record);
      } catch {
        // Nowhere left to write to.
      }
    }
  };
  const guard =
    (level: RedstreamLogLevel) =>
    (message: string, ...params: unknown[]): void => {
      emit(level, recordOf(message, params, base));
    };
  return {
    log: guard('log'),
    warn: guard('warn'),
    error: guard('error'),
    debug: guard('debug'),
    // A guarded logger guarded again (a component handed the worker's logger) keeps the fields.
    write: (level, record) => emit(level, new RedstreamLogRecord(record.msg, { ...base, ...fieldsOf(record) })),
  };
}

/** The text, a stack (a string argument) and the line's fields (an object argument). */
function recordOf(message: string, params: unknown[], base: RedstreamLogFields): RedstreamLogRecord {
  let fields: RedstreamLogFields = {};
  let stack: string | undefined;
  for (const param of params) {
    if (typeof param === 'string') stack ??= param;
    else if (typeof param === 'object' && param !== null) fields = { ...fields, ...(param as RedstreamLogFields) };
  }
  return new RedstreamLogRecord(String(message), { ...base, ...fields, stack });
}

function fieldsOf(record: RedstreamLogRecord): RedstreamLogFields & { stack?: string } {
  return { ...record.fields, stack: record.stack };
}
