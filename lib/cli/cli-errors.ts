/** The command line was wrong (unknown option, bad value): exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** The command could not do what was asked (Redis unreachable, a consumer is active): exit code 1. */
export class CliOperationalError extends Error {
  override readonly name = 'CliOperationalError';
}

/** Exit codes of the `redstream` command. */
export const EXIT_OK = 0;
export const EXIT_OPERATIONAL_ERROR = 1;
export const EXIT_USAGE_ERROR = 2;
