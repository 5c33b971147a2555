import type { RawStreamEntry } from './message-parser';

/** The COUNT of a worker's first read: small, so a stream of huge entries cannot blow up memory before any size is known. */
const FIRST_COUNT = 10;

/** How many entries of a read are measured to estimate their average size. */
const SAMPLE_SIZE = 32;

/**
 * Bounds a worker's reads by bytes as well as by count: the COUNT of the next read is what
 * fits into `maxBytes` at the average entry size of the read before (at most `maxCount`;
 * the average of a sample of 32 entries spread over the read, the last one always included), so a
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
    // A sample of up to SAMPLE_SIZE entries spread over the batch estimates the average:
    // constant work per read instead of per entry (the consume benchmark's hot path).
    const step = Math.max(1, Math.floor(entries.length / SAMPLE_SIZE));
    let bytes = 0;
    let sampled = 0;
    for (let i = entries.length - 1; i >= 0; i -= step) {
      const entry = entries[i];
      bytes += entry[0].length;
      const fields = entry[1];
      if (fields) for (let f = 0; f < fields.length; f++) bytes += fields[f].length;
      sampled++;
    }
    const perEntry = Math.max(1, bytes / sampled);
    const fitting = Math.max(1, Math.floor(this.maxBytes / perEntry));
    this.count = Math.min(this.maxCount, fitting);
  }

  /** Starts small again (a new activation: the stream may hold anything now). */
  reset(): void {
    this.count = Math.min(FIRST_COUNT, this.maxCount);
  }
}
