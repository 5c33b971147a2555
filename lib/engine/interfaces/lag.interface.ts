/** How far a reader of a stream is behind: what `Redstream.lag`, `groupLag` and `delayBacklog` share. */
export interface StreamLag {
  stream: string;
  /**
   * Entries waiting (written after what the reader has taken). Exact when `exact` is true;
   * otherwise an estimate (see `exact`).
   */
  entries: number;
  /**
   * Age in ms of the oldest waiting entry: Redis's clock (TIME on the stream's node) minus the
   * time in its id. 0 when nothing waits.
   */
  oldestAgeMs: number;
  /**
   * False when Redis could not tell the count and counting the entries would have read more
   * than `maxCount` of them: `entries` is then estimated from the ids' timestamps and lies
   * between `entriesAtLeast` and `entriesAtMost`.
   */
  exact: boolean;
  /** With `exact: false`: the count is at least this (what was counted). */
  entriesAtLeast?: number;
  /** With `exact: false`: the count is at most this. */
  entriesAtMost?: number;
}

/** The lag of an offset consumer (`Redstream.lag`). */
export interface ConsumerLag extends StreamLag {
  consumer: string;
  /** The committed offset; null before the consumer's first commit (it reads from the start). */
  offset: string | null;
}

/** The lag of a consumer group (`Redstream.groupLag`): entries not yet delivered, and those pending. */
export interface GroupLag extends StreamLag {
  group: string;
  /** The id of the last entry delivered to the group; `entries` are the ones after it. */
  lastDeliveredId: string;
  /** Entries delivered to a member and not acknowledged yet. */
  pending: number;
  /** Age in ms of the oldest pending entry (since it was written); 0 when none is pending. */
  oldestPendingAgeMs: number;
}

/** The Delayer's backlog of a stream (`Redstream.delayBacklog`): delay messages not re-queued yet. */
export interface DelayBacklog extends StreamLag {
  /** The delay stream, `<stream>.delay`. */
  delayStream: string;
}

/** Options of `Redstream.lag` and `Redstream.groupLag`. */
export interface LagOptions {
  /**
   * When Redis cannot tell the count, at most this many entries are read to count it (each
   * side of the offset); beyond that the count is estimated (`exact: false`). Default 10000.
   */
  maxCount?: number;
}
