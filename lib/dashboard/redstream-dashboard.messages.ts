// Every error text of the dashboard, as functions.

export const DASHBOARD_OPTION_INVALID = (option: string, reason: string): string =>
  `RedstreamDashboardModule: option "${option}" is invalid: ${reason}`;

export const DASHBOARD_NEEDS_GUARD = (): string =>
  'RedstreamDashboardModule: readOnly: false lets whoever reaches the page replay dead letters and rewind ' +
  'consumers, so it needs a guard: pass guard (a CanActivate class or instance that checks who asks), ' +
  'or leave readOnly at true.';

export const DASHBOARD_READ_ONLY = (): string =>
  'The Redstream dashboard is read-only (readOnly: true): replay and rewind are off.';

export const DASHBOARD_NEEDS_JSON = (): string =>
  'The Redstream dashboard accepts actions only as JSON: send Content-Type: application/json.';

export const DASHBOARD_BAD_REQUEST = (reason: string): string => `Redstream dashboard: ${reason}`;

export const DASHBOARD_INVALID_REPLAY_IDS = (max: number): string =>
  `"ids" must be 1 to ${max} stream ids, or left out to replay all`;

export const DASHBOARD_STREAM_NOT_SHOWN = (stream: string): string =>
  `stream "${stream}" is not shown on this dashboard`;

export const DASHBOARD_NOT_AN_OBJECT = (): string => 'expected a JSON object';

export const DASHBOARD_UNKNOWN_FIELDS = (unknown: readonly string[], expected: readonly string[]): string =>
  `unknown field(s) ${unknown.join(', ')}; expected ${expected.join(', ')}`;

export const DASHBOARD_CONSUMER_ACTIVE = (stream: string, consumer: string): string =>
  `Consumer "${consumer}" of stream "${stream}" is active: an instance holds its lock and would commit over a ` +
  `rewound offset. Stop it (RedstreamRegistry.stop or the process) and rewind again.`;
