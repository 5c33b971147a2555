/** A rewind target id that is not a stream id. */
export function rewindInvalidId(id: string): string {
  return `rewind: ${JSON.stringify(id)} is not a Redis stream id (<ms>-<seq>)`;
}

/** A rewind target time that is not a non-negative whole number of ms. */
export function rewindInvalidTime(ms: number): string {
  return `rewind: ${ms} is not a time in ms since the epoch`;
}

/** A rewind target (the CLI's `--to`, the dashboard's `to`) in none of the accepted forms. */
export function rewindInvalidTarget(value: unknown): string {
  return (
    'rewind: the target must be "start", "end", a stream id (<ms>-<seq>) or an ISO 8601 time ' +
    `such as 2026-11-30T08:00:00Z; got ${JSON.stringify(value) ?? String(value)}`
  );
}
