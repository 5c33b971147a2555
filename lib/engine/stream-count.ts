import type { RedisClient } from './redis-connection';
import { scripts } from './scripts';

/** Ids read per XRANGE while counting: large enough for few round trips, small enough not to block Redis long. */
const COUNT_PAGE = 10_000;

/** How many entries of a range a count found: all of them (`complete`), or it stopped at `max`. */
export interface RangeCount {
  count: number;
  /** False when counting stopped at `max`: there are more. */
  complete: boolean;
}

/**
 * Counts the entries of `streamKey` from `start` to `end` (XRANGE bounds, `(` for exclusive),
 * page by page (in a script: no entry travels), at most `max + 1` of them; also returns the
 * first and last ids met. Redis has no rank operation on streams: this is O(count), hence the
 * bound. `onPage` hears the count so far after each page (a long count's progress).
 */
export async function countRange(
  client: RedisClient,
  streamKey: string,
  start: string,
  end: string,
  max: number,
  onPage?: (counted: number) => void,
): Promise<RangeCount & { firstId?: string; lastId?: string }> {
  let count = 0;
  let firstId: string | undefined;
  let lastId: string | undefined;
  let from = start;
  for (;;) {
    // One beyond `max` tells whether there are more than `max`.
    const pageSize = Math.min(COUNT_PAGE, max + 1 - count);
    const [pageCount, pageFirst, pageLast] = (await scripts.countRange.run(
      client,
      [streamKey],
      [from, end, pageSize],
    )) as [number, string, string];
    if (firstId === undefined && pageCount > 0) firstId = pageFirst;
    if (pageCount > 0) lastId = pageLast;
    count += pageCount;
    onPage?.(Math.min(count, max));
    if (count > max) return { count: max, complete: false, firstId };
    if (pageCount < pageSize) return { count, complete: true, firstId, lastId };
    from = `(${pageLast}`;
  }
}
