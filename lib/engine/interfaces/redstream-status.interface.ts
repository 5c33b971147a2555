/**
 * Everything an operator asks about the streams of a namespace at once
 * (`Redstream.status()`, the `redstream status --json` output).
 */
export interface RedstreamStatus {
  /** One entry per stream, sorted by name. */
  streams: StreamStatus[];
}

/** One stream: its length, delay backlog, dead letters and readers. */
export interface StreamStatus {
  stream: string;
  /** Entries in the stream (0 when it does not exist). */
  length: number;
  /** Delay messages of the stream not re-queued yet (`Redstream.delayBacklog`). */
  delayBacklog: {
    entries: number;
    /** Age in ms of the oldest one on Redis's clock; 0 when none waits. */
    oldestAgeMs: number;
  };
  /** Entries in `<stream>.dead`. */
  deadLetters: number;
  /** Offset consumers: the registered ones and those with a committed offset, sorted by name. */
  consumers: ConsumerStatus[];
  /** Consumer groups of the stream, sorted by name. */
  groups: GroupStatus[];
}

/** One offset consumer of a stream. */
export interface ConsumerStatus {
  name: string;
  /** Its committed offset; null before its first commit. */
  offset: string | null;
  /** Entries after the offset (estimated beyond `maxLagCount`, as `Redstream.lag`). */
  lag: number;
  /** Age in ms of the oldest of them; 0 when nothing waits. */
  lagMs: number;
  /** True while an instance holds the consumer's lock (`consumer:<stream>:<name>`). */
  active: boolean;
  /** The owner id in the lock, while it is held. */
  owner?: string;
}

/** One consumer group of a stream. */
export interface GroupStatus {
  name: string;
  /** Members of the group (Redis's consumers of it). */
  consumers: number;
  /** Entries delivered and not acked yet. */
  pending: number;
  /** Entries not delivered to any member yet. */
  lag: number;
  /** Age in ms of the oldest undelivered entry; 0 when none. */
  lagMs: number;
  /** Age in ms of the oldest pending entry; 0 when none is pending. */
  oldestPendingAgeMs: number;
  lastDeliveredId: string;
}

/** Options of `Redstream.status`. */
export interface StatusOptions {
  /** Only these streams (which need not exist); default: every stream found in the namespace. */
  streams?: string[];
  /** As `LagOptions.maxCount` for each lag. Default 10000. */
  maxLagCount?: number;
}
