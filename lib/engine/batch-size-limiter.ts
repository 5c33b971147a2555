import type { RawStreamEntry } from './message-parser';

/** The COUNT of a worker's first read: small, so a stream of huge entries cannot blow up memory before any size is known. */
const FIRST_COUNT = 10;

/**
 * Bounds a worker's reads by bytes as well as by count: the COUNT of the next read is what
 * fits into `maxBytes` at the average entry size of the read before (at most `maxCount`), so a
 * batch holds about `maxBytes` of field data while sizes do not jump. It starts small after
 * every `reset()`, when nothing is known; a single entry larger than `maxBytes` still goes
 * through, alone. Costs one sum of string lengths per entry read. (Growing step by step
 * instead cost the benchmark's consumer a tenth of its throughput in extra round trips, and
 * protects nothing the next batch does not risk anyway.)
 *
 * @example
 * const count = limiter.nextCount();
 * const entries = await xread('COUNT', count, ...);
 * limiter.record(entries);
 */
export class BatchSizeLimiter {
  private count: number;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {
    this.count = Math.min(FIRST_COUNT, maxCount);
  }

  /** The COUNT for the next read. */
  nextCount(): number {
    return this.count;
  }

  /** Takes the entries a read returned (empty or null when it returned none) into account. */
  record(entries: readonly RawStreamEntry[] | null | undefined): void {
    if (!entries || entries.length === 0) return;
    let bytes = 0;
    for (const [id, fields] of entries) {
      bytes += id.length;
      if (fields) for (const field of fields) bytes += field.length;
    }
    const perEntry = Math.max(1, bytes / entries.length);
    const fitting = Math.max(1, Math.floor(this.maxBytes / perEntry));
    this.count = Math.min(this.maxCount, fitting);
  }

  /** Starts small again (a new activation: the stream may hold anything now). */
  reset(): void {
    this.count = Math.min(FIRST_COUNT, this.maxCount);
  }
}
