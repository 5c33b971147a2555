import { performance } from 'node:perf_hooks';
import { compareStreamIds, nextStreamId } from './stream-id';
import type { StreamPosition } from './stream-position';

/** Entries deleted by someone else before a worker read them: the ids strictly between `from` and `to`. */
export interface SkippedRange {
  /** Exclusive: the committed offset the gap starts after. */
  from: string;
  /** Exclusive: the first id after the gap (the next entry read, or the id right after the highest deleted one). */
  to: string;
  /**
   * How many entries were skipped: exact for a trim from the stream's start (XTRIM MAXLEN or
   * MINID); for scattered XDELs an upper bound (every deletion counted since the last check).
   */
  estimatedCount: number;
}

/** How often, at most, a read whose first id may follow the offset directly triggers a check. */
const CHECK_INTERVAL_MS = 1_000;

/**
 * Finds entries that someone else deleted (XTRIM, XDEL) after a worker's committed offset
 * before the worker read them, from Redis 7's stream counters: `max-deleted-entry-id` above
 * the offset tells of an XDEL; for a trim from the start (which Redis does not record), the
 * detector keeps count of the entries ever added up to the offset (seeded when Redis can tell
 * it exactly, then advanced by each batch read) and compares it with `entries-added` minus
 * `length` when a read starts at the stream's first entry. The Trimmer deletes only entries at
 * or below every committed offset, which never counts.
 *
 * Cheap: a check (one script call) runs when a worker becomes active, and before a batch whose
 * first id does not directly follow the offset: at once when it provably cannot (a sequence
 * above 0), else at most once per second. A trim from the start that happened while no
 * instance was active, or on Redis 6, goes unnoticed.
 */
export class ForeignDeletionDetector {
  private lastCheckAt = 0;
  /** Deletions (entries added minus present) at the last check. */
  private deletionsSeen = 0;
  private reportedUpTo?: string;
  /** Entries ever added with an id at or below the offset, while known. */
  private addedUpToOffset?: number;

  constructor(
    private readonly readPosition: () => Promise<StreamPosition | null>,
    private readonly report: (range: SkippedRange, firstLeft: string | undefined) => void,
  ) {}

  /** A worker became active at `offset` (`committed` false: nothing committed yet, a new reader). */
  activated(offset: string, committed: boolean, position: StreamPosition | null): void {
    this.deletionsSeen = 0;
    this.reportedUpTo = undefined;
    this.addedUpToOffset = undefined;
    if (!committed) {
      // A new reader skips nothing: what was deleted before it came was never its to read.
      this.addedUpToOffset = 0;
      this.reportedUpTo = position?.maxDeletedId;
      this.deletionsSeen = this.deletionsOf(position);
      this.lastCheckAt = performance.now();
      return;
    }
    this.check(offset, undefined, position);
  }

  /** Before handling a batch read after `offset` that starts at `firstId`. */
  async beforeBatch(offset: string, firstId: string): Promise<void> {
    if (firstId === nextStreamId(offset)) return;
    const provableGap = !firstId.endsWith('-0');
    if (!provableGap && performance.now() - this.lastCheckAt < CHECK_INTERVAL_MS) return;
    this.check(offset, firstId, await this.readPosition());
  }

  /** A batch of `count` entries, read after the offset, was handled and its last id committed. */
  afterBatch(count: number): void {
    if (this.addedUpToOffset !== undefined) this.addedUpToOffset += count;
  }

  private deletionsOf(position: StreamPosition | null): number {
    return position?.entriesAdded === undefined ? 0 : position.entriesAdded - position.length;
  }

  private check(offset: string, firstId: string | undefined, position: StreamPosition | null): void {
    this.lastCheckAt = performance.now();
    if (!position || position.entriesAdded === undefined) return;
    const deletions = this.deletionsOf(position);
    const newDeletions = Math.max(0, deletions - this.deletionsSeen);
    this.deletionsSeen = deletions;
    const maxDeleted = position.maxDeletedId ?? '0-0';

    if (
      compareStreamIds(maxDeleted, offset) > 0 &&
      (this.reportedUpTo === undefined || compareStreamIds(maxDeleted, this.reportedUpTo) > 0)
    ) {
      this.reportedUpTo = maxDeleted;
      // The count up to later offsets cannot be kept across scattered deletions.
      this.addedUpToOffset = undefined;
      this.report({ from: offset, to: nextStreamId(maxDeleted), estimatedCount: newDeletions }, position.firstId);
      return;
    }

    // No deletion inside what is left (Redis's own condition for counting): everything
    // before the first entry present is gone, and `deletions` of them were ever added.
    const unfragmented =
      maxDeleted === '0-0' || (position.firstId !== undefined && compareStreamIds(maxDeleted, position.firstId) < 0);
    if (position.lastGeneratedId === offset) {
      this.addedUpToOffset = position.entriesAdded;
    } else if (firstId !== undefined && firstId === position.firstId && unfragmented) {
      const skipped = this.addedUpToOffset === undefined ? 0 : deletions - this.addedUpToOffset;
      if (skipped > 0) this.report({ from: offset, to: firstId, estimatedCount: skipped }, position.firstId);
      // Up to the entry before the batch: every deleted one.
      this.addedUpToOffset = deletions;
    }
  }
}
