/**
 * Short worker timings for the Nest and microservices specs, so that takeover, backoff and
 * shutdown take well under a second and the tests take seconds.
 */
export const FAST_WORKERS = {
  blockMs: 500,
  lockTtlMs: 1_000,
  lockRefreshMs: 300,
  standbyPollMs: 100,
  backoffInitialMs: 50,
  backoffMaxMs: 500,
} as const;
