export const REDSTREAM_DASHBOARD_OPTIONS = 'REDSTREAM_DASHBOARD_OPTIONS';

export const DEFAULT_DASHBOARD_PATH = '/redstream';
export const DEFAULT_DASHBOARD_POLL_INTERVAL_MS = 2_000;
export const DEFAULT_DASHBOARD_CHART_WINDOW_MS = 10 * 60_000;

/** At most this many dead letters are replayed by one request, so that one click cannot block Redis for long. */
export const DASHBOARD_MAX_REPLAY_IDS = 1_000;
