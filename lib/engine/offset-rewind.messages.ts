/** A rewind target id that is not a stream id. */
export function rewindInvalidId(id: string): string {
  return `rewind: ${JSON.stringify(id)} is not a Redis stream id (<ms>-<seq>)`;
}

/** A rewind target time that is not a non-negative whole number of ms. */
export function rewindInvalidTime(ms: number): string {
  return `rewind: ${ms} is not a time in ms since the epoch`;
}
