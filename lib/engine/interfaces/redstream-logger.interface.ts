/**
 * Where the engine logs. Nest's `Logger` and `LoggerService` fit as they are; so does `console`.
 */
export interface RedstreamLogger {
  log(message: string, ...optionalParams: unknown[]): void;
  warn(message: string, ...optionalParams: unknown[]): void;
  error(message: string, ...optionalParams: unknown[]): void;
  debug?(message: string, ...optionalParams: unknown[]): void;
}
