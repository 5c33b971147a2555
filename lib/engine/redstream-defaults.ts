/** Where Redis is looked for when no connection is configured. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** How long closing waits for handlers in flight to finish and commit, in ms. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** How often a trimmer trims when no interval or schedule is configured, in ms. */
export const DEFAULT_TRIM_INTERVAL_MS = 30_000;
