import type { Duration } from '../duration';
import type { WorkerOptions } from './worker-options.interface';

/** Options of a {@link Trimmer}. */
export interface TrimmerOptions extends WorkerOptions {
  /** The stream to trim. */
  stream: string;
  /**
   * Consumer names that must have committed an entry before it is deleted, in addition to
   * every name that ever registered on the stream in Redis (each Consumer registers itself
   * when it becomes active). Default: none beyond the registered ones.
   */
  consumerNames?: string[];
  /**
   * Consumer groups that must have received an entry before it is deleted, in addition to
   * every group that exists on the stream: list a group that is deployed later here, so that
   * the trimmer keeps everything until it exists (it starts at the beginning of the stream).
   * While a listed group is missing, nothing is trimmed. Default: none beyond the existing ones.
   */
  groupNames?: string[];
  /** How long `start()`'s loop sleeps between runs: ms or `'30s'`. Default 30 s (the gem's). */
  interval?: Duration;
}

/** What one trimming run did. */
export interface TrimResult {
  /** Entries deleted. */
  trimmed: number;
  /**
   * Why nothing was trimmed, when nothing was: another trimmer holds the lock, no consumer is
   * known, a known consumer has not committed yet, nothing is committed that is still in the
   * stream, consumers kept registering while this run tried to read the registry, or a
   * group listed in `groupNames` does not exist yet.
   */
  skipped?:
    'locked' | 'no-consumers' | 'consumer-without-offset' | 'nothing-committed' | 'registry-changed' | 'group-missing';
  /** The consumer names that were considered. */
  consumers: string[];
}

/** What a trimming run would delete now (`Trimmer.plan()`, a dry run). */
export interface TrimPlan {
  /** Entries a run would delete. */
  entries: number;
  /** The first and last of them, when there are any. */
  firstId?: string;
  lastId?: string;
  /** Why nothing would be deleted, as {@link TrimResult.skipped} (a plan takes no lock). */
  skipped?: Exclude<TrimResult['skipped'], 'locked'>;
  /** The consumer names that were considered. */
  consumers: string[];
}
