import { isolatePoison } from '../../lib/engine/poison-isolation';

/** A handler that fails a batch holding any of `poison`, and records what it handled. */
function handlerFailingOn(poison: readonly number[]) {
  const handled: number[] = [];
  const attempt = async (entries: readonly number[]): Promise<void> => {
    await Promise.resolve();
    const bad = entries.find((entry) => poison.includes(entry));
    if (bad !== undefined) throw new Error(`entry ${bad} is poison`);
    handled.push(...entries);
  };
  return { handled, attempt };
}

const batchOf = (size: number): number[] => Array.from({ length: size }, (_, index) => index);

describe('isolatePoison', () => {
  const log2of1000 = Math.ceil(Math.log2(1000)); // 10 levels of halving

  it.each([[0], [1], [499], [500], [777], [999]])(
    'finds the one poisoned entry %i of 1000 in about 2·log2(1000) calls, handling the rest in order',
    async (poison) => {
      const batch = batchOf(1000);
      const { handled, attempt } = handlerFailingOn([poison]);
      const result = await isolatePoison(batch, attempt, { batchFailure: { error: new Error('batch failed') } });

      expect(result.poisoned).toEqual([{ entry: poison, error: new Error(`entry ${poison} is poison`) }]);
      expect(handled).toEqual(batch.filter((entry) => entry !== poison));
      expect(result.unfinished).toEqual([]);
      expect(result.stoppedBecause).toBeUndefined();
      expect(result.calls).toBeGreaterThanOrEqual(log2of1000);
      expect(result.calls).toBeLessThanOrEqual(2 * log2of1000);
    },
  );

  it.each([
    [3, 4],
    [0, 999],
    [250, 750],
    [10, 900],
  ])('finds two poisoned entries %i and %i of 1000 in at most 2·2·log2(1000) calls', async (...poison) => {
    const batch = batchOf(1000);
    const { handled, attempt } = handlerFailingOn(poison);
    const result = await isolatePoison(batch, attempt, { batchFailure: { error: new Error('batch failed') } });

    expect(result.poisoned.map(({ entry }) => entry)).toEqual(poison);
    expect(handled).toEqual(batch.filter((entry) => !poison.includes(entry)));
    expect(result.calls).toBeLessThanOrEqual(2 * 2 * log2of1000);
  });

  it('attempts the whole batch first unless told it failed', async () => {
    const { handled, attempt } = handlerFailingOn([]);
    const result = await isolatePoison(batchOf(1000), attempt);
    expect(result).toEqual({ poisoned: [], calls: 1, unfinished: [] });
    expect(handled).toEqual(batchOf(1000));
  });

  it('finds nothing poisoned when the batch failed only as a whole (a transient failure)', async () => {
    const { handled, attempt } = handlerFailingOn([]);
    const result = await isolatePoison(batchOf(8), attempt, { batchFailure: { error: new Error('timeout') } });
    expect(result.poisoned).toEqual([]);
    expect(result.calls).toBe(2);
    expect(handled).toEqual(batchOf(8));
  });

  it('never holds a failure against an entry that succeeds on its own', async () => {
    // Fails any batch of more than one entry: every entry is healthy on its own.
    const handled: number[] = [];
    const result = await isolatePoison(batchOf(16), async (entries) => {
      if (entries.length > 1) throw new Error('too big');
      handled.push(...entries);
    });
    expect(result.poisoned).toEqual([]);
    expect(handled).toEqual(batchOf(16));
  });

  it('poisons a batch of one that is known to have failed without attempting it again', async () => {
    const { attempt } = handlerFailingOn([]);
    const error = new Error('it failed');
    expect(await isolatePoison([42], attempt, { batchFailure: { error } })).toEqual({
      poisoned: [{ entry: 42, error }],
      calls: 0,
      unfinished: [],
    });
    expect(await isolatePoison([], attempt)).toEqual({ poisoned: [], calls: 0, unfinished: [] });
  });

  describe('interrupted (stop(), a lost lock)', () => {
    it('starts no attempt once aborted and returns the untouched tail, in order', async () => {
      const batch = batchOf(1000);
      const abort = new AbortController();
      const handled: number[] = [];
      const result = await isolatePoison(
        batch,
        async (entries) => {
          if (entries.includes(600)) throw new Error('poison');
          handled.push(...entries);
          if (handled.length >= 300) abort.abort();
        },
        { batchFailure: { error: new Error('failed') }, signal: abort.signal },
      );
      expect(result.stoppedBecause).toBe('aborted');
      // Handled, poisoned and unfinished together are the batch, in order.
      expect([...handled, ...result.poisoned.map(({ entry }) => entry), ...result.unfinished]).toEqual(batch);
      expect(result.unfinished[0]).toBe(handled.length);
    });

    it('does not poison an entry whose attempt failed because of the abort', async () => {
      const abort = new AbortController();
      const result = await isolatePoison(
        batchOf(4),
        async (entries) => {
          if (entries.length === 1 && entries[0] === 0) {
            abort.abort();
            throw new Error('lost the lock');
          }
          if (entries.length > 1) throw new Error('batch failed');
        },
        { signal: abort.signal },
      );
      expect(result).toEqual({ poisoned: [], calls: 3, stoppedBecause: 'aborted', unfinished: batchOf(4) });
    });

    it('does nothing with a signal aborted before it starts', async () => {
      const abort = new AbortController();
      abort.abort();
      const { attempt } = handlerFailingOn([]);
      expect(await isolatePoison(batchOf(3), attempt, { signal: abort.signal })).toEqual({
        poisoned: [],
        calls: 0,
        stoppedBecause: 'aborted',
        unfinished: batchOf(3),
      });
    });
  });

  it('stops at maxPoisoned when nearly everything fails on its own (an outage, not poison)', async () => {
    const result = await isolatePoison(
      batchOf(100),
      async () => {
        throw new Error('database down');
      },
      { maxPoisoned: 2 },
    );
    expect(result.poisoned.map(({ entry }) => entry)).toEqual([0, 1]);
    expect(result.stoppedBecause).toBe('too-many-poisoned');
    expect(result.unfinished).toEqual(batchOf(100).slice(2));
  });
});
