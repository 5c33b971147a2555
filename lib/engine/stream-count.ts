import type { RedisClient } from './redis-connection';

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
 * page by page, reading at most `max + 1` of them; also returns the first id met. Redis has no
 * rank operation on streams: this is O(count) in Redis time and transfer, hence the bound.
 */
export async function countRange(
  client: RedisClient,
  streamKey: string,
  start: string,
  end: string,
  max: number,
): Promise<RangeCount & { firstId?: string }> {
  let count = 0;
  let firstId: string | undefined;
  let from = start;
  for (;;) {
    // One beyond `max` tells whether there are more than `max`.
    const pageSize = Math.min(COUNT_PAGE, max + 1 - count);
    // Only the ids matter, but XRANGE has no way to leave the fields out.
    const page = (await client.xrange(streamKey, from, end, 'COUNT', pageSize)) as [string, string[]][];
    if (firstId === undefined && page.length > 0) firstId = page[0][0];
    count += page.length;
    if (count > max) return { count: max, complete: false, firstId };
    if (page.length < pageSize) return { count, complete: true, firstId };
    from = `(${page[page.length - 1][0]}`;
  }
}
