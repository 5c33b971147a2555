/** An entry that failed when it was attempted on its own, with that failure. */
export interface PoisonedEntry<T> {
  entry: T;
  error: unknown;
}

/** Why an isolation stopped before every entry was handled or found poisoned. */
export type PoisonIsolationStop = 'aborted' | 'too-many-poisoned';

/** What {@link isolatePoison} found. */
export interface PoisonIsolationResult<T> {
  /** The entries that failed on their own, in stream order. */
  poisoned: PoisonedEntry<T>[];
  /** How often `attempt` was called. */
  calls: number;
  /** Set when the isolation stopped early; see `unfinished`. */
  stoppedBecause?: PoisonIsolationStop;
  /**
   * After an early stop: the entries neither handled nor found poisoned, in stream order.
   * They always form the tail of the batch: everything before them was handled or is in
   * `poisoned`. Empty when the isolation completed.
   */
  unfinished: T[];
}

export interface PoisonIsolationOptions {
  /**
   * Set when the whole batch has already failed (that is why it is being isolated): it is
   * not attempted again, its halves are. A batch of one is then poisoned at once.
   */
  batchFailure?: { error: unknown };
  /**
   * Interrupts the isolation (a `stop()`, a lost lock): no `attempt` starts once it is
   * aborted, and a failure of an attempt that ends after the abort is not held against its
   * entries (it may have failed because of the abort).
   */
  signal?: AbortSignal;
  /**
   * Stops (`'too-many-poisoned'`) instead of finding one more poisoned entry: when nearly
   * every entry fails on its own, the cause is more likely an outage than the entries.
   * Default: no limit.
   */
  maxPoisoned?: number;
}

/**
 * Finds the entries of a failed batch that fail on their own, by bisection: `attempt` (which
 * throws on failure) is called on the left half, then on the right half, and each half that
 * fails is split again, down to single entries. The parts that succeed are handled in stream
 * order (left before right), so the order of the healthy entries is kept, and an entry is
 * found poisoned only when `attempt` failed on it alone: a healthy entry never is because it
 * shared a batch with a poisoned one. One poisoned entry in n costs about 2·log2(n) calls.
 *
 * Pure and independent of any loop: the caller decides what to do with the poisoned entries
 * (dead letters) and with `unfinished` entries after an early stop (retry them later).
 */
export async function isolatePoison<T>(
  batch: readonly T[],
  attempt: (entries: readonly T[]) => Promise<unknown>,
  options: PoisonIsolationOptions = {},
): Promise<PoisonIsolationResult<T>> {
  const { signal } = options;
  const maxPoisoned = options.maxPoisoned ?? Infinity;
  const poisoned: PoisonedEntry<T>[] = [];
  let calls = 0;
  let stop: { at: number; because: PoisonIsolationStop } | undefined;

  // Handles batch[start, end): true when done, false when the isolation stops.
  const isolate = async (start: number, end: number, knownFailure?: { error: unknown }): Promise<boolean> => {
    if (signal?.aborted) {
      stop = { at: start, because: 'aborted' };
      return false;
    }
    let failure = knownFailure;
    if (!failure) {
      calls++;
      try {
        await attempt(batch.slice(start, end));
        return true;
      } catch (error) {
        if (signal?.aborted) {
          stop = { at: start, because: 'aborted' };
          return false;
        }
        failure = { error };
      }
    }
    if (end - start === 1) {
      if (poisoned.length >= maxPoisoned) {
        stop = { at: start, because: 'too-many-poisoned' };
        return false;
      }
      poisoned.push({ entry: batch[start], error: failure.error });
      return true;
    }
    const middle = start + Math.ceil((end - start) / 2);
    return (await isolate(start, middle)) && (await isolate(middle, end));
  };

  if (batch.length > 0) await isolate(0, batch.length, options.batchFailure);
  return stop
    ? { poisoned, calls, stoppedBecause: stop.because, unfinished: batch.slice(stop.at) }
    : { poisoned, calls, unfinished: [] };
}
