// Every text of the health check, as functions.

export const REDIS_UNREACHABLE = (reason: string): string => `Redis unreachable: ${reason}`;

export const REDIS_TIMEOUT = (ms: number): string => `no answer within ${ms} ms`;

export const STALLED = (since: Date | undefined): string =>
  `stalled${since ? ` since ${since.toISOString()}` : ''} (the same batch or its loop keeps failing)`;

export const NOT_RUNNING = (): string => 'not running (stopped, or never started with autoStart: false)';

export const NO_OWNER = (): string => 'not active, and no other instance holds its lock';

export const GROUP_NOT_ACTIVE = (): string => 'not active in its consumer group (joining, or failing)';

export const LAG_ENTRIES = (entries: number, exact: boolean, max: number): string =>
  `${exact ? '' : 'about '}${entries} entries waiting, more than maxLagEntries ${max}`;

export const LAG_AGE = (ageMs: number, max: number): string =>
  `oldest waiting entry is ${ageMs} ms old, more than maxLagMs ${max}`;

export const DELAY_OVERDUE = (overdueMs: number, max: number): string =>
  `oldest delay message is ${overdueMs} ms overdue, more than maxLagMs ${max}`;

export const CHECK_FAILED = (reason: string): string => `could not be checked: ${reason}`;

export const UNHEALTHY = (problems: number, redisReachable: boolean): string =>
  redisReachable
    ? `Redstream is unhealthy: ${problems} failing worker(s)`
    : 'Redstream is unhealthy: Redis unreachable';

export const INVALID_HEALTH_OPTION = (option: string, value: unknown): string =>
  `RedstreamHealthIndicator: ${option} must be a positive number, got ${JSON.stringify(value) ?? typeof value}`;
