import { ConsoleLogger, Logger } from '@nestjs/common';
import type { RedstreamLogger } from '../engine';

/**
 * Nest's `Logger` (or a `ConsoleLogger`) as the engine's logger, with `write`: each record goes
 * in as the message object. Nest's loggers take any message: ConsoleLogger prints a record
 * through `util.inspect` (the text with its fields in parentheses, then the stack), and a JSON
 * logger behind `app.useLogger()` (nestjs-pino) copies its fields into the JSON line.
 */
function nestRedstreamLogger(logger: Logger | ConsoleLogger): RedstreamLogger {
  return {
    log: (message, ...params) => logger.log(message, ...params),
    warn: (message, ...params) => logger.warn(message, ...params),
    error: (message, ...params) => logger.error(message, ...params),
    debug: (message, ...params) => logger.debug(message, ...params),
    write: (level, record) => logger[level](record),
  };
}

/** True for the loggers {@link nestRedstreamLogger} is for, unless they have a `write` of their own. */
function isNestLogger(logger: RedstreamLogger): logger is RedstreamLogger & (Logger | ConsoleLogger) {
  return logger.write === undefined && (logger instanceof Logger || logger instanceof ConsoleLogger);
}

/** `logger` as the engine should get it: Nest's loggers through {@link nestRedstreamLogger}, others as they are. */
export function engineLoggerOf(logger: RedstreamLogger): RedstreamLogger {
  return isNestLogger(logger) ? nestRedstreamLogger(logger) : logger;
}
