import Redis from 'ioredis';
import { Consumer, Redstream, RedstreamOffsetError, SkippedRange } from '../../lib/engine';
import { nextStreamId } from '../../lib/engine/stream-id';
import { RecordingLogger } from '../support/recording-logger';
import { waitFor } from '../support/test-redis';
import { closeTestRedstream, openTestRedstream } from '../support/test-redstream';

// Issue 14: an offset key set by hand to garbage or into the future was accepted silently (or
// retried with a raw "Invalid stream ID" naming neither key nor value), and the trimmer then
// deleted entries nobody had handled; entries trimmed by someone else were skipped without a
// word. Now: the consumer stalls with an error naming key and value, the trimmer refuses, and
// a foreign deletion is logged and emitted as `skipped`.
describe('tampered offsets and foreign deletions', () => {
  let namespace: string;
  let admin: Redis;
  let logger: RecordingLogger;
  let redstream: Redstream;
  const consumers: Consumer[] = [];
  const streamKey = (): string => `${namespace}:redstream:stream:products`;
  const offsetKey = (name = 'indexer'): string => `${namespace}:redstream:offset:products:${name}`;

  beforeEach(() => {
    logger = new RecordingLogger();
    ({ namespace, redstream, admin } = openTestRedstream(undefined, logger));
  });
  afterEach(() => closeTestRedstream({ redstream, admin }, consumers));

  const consumer = (handled: string[], options: { name?: string; batchSize?: number } = {}): Consumer => {
    const created = redstream.consumer({
      stream: 'products',
      name: options.name ?? 'indexer',
      batchSize: options.batchSize,
      backoffInitialMs: 50,
      backoffMaxMs: 100,
      handler: (messages) => {
        handled.push(...messages.map((message) => message.id));
      },
    });
    consumers.push(created);
    return created;
  };
  /** Batches of 10 whose handler holds at the 20th entry until `release`, recording what is skipped. */
  const heldConsumer = () => {
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const skipped: SkippedRange[][] = [];
    const worker = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      batchSize: 10,
      handler: async (messages) => {
        handled.push(...messages.map((message) => message.id));
        if (handled.length === 20) await gate;
      },
    });
    consumers.push(worker);
    worker.on('skipped', (ranges) => skipped.push(ranges));
    return { handled, skipped, worker, release };
  };
  const write = async (count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await admin.xadd(streamKey(), '*', 'payload', `{"i":${i}}`))!);
    return ids;
  };

  it('an offset that is not a stream id stalls the consumer with an error naming key and value, at each backoff', async () => {
    const ids = await write(5);
    await admin.sadd(`${namespace}:redstream:consumers:products`, 'indexer');
    await admin.set(offsetKey(), 'abc');
    const handled: string[] = [];
    const failures: Error[] = [];
    const worker = consumer(handled);
    worker.on('failed', (error) => failures.push(error));
    worker.start();
    await waitFor(() => failures.length >= 3);
    expect(failures[0]).toBeInstanceOf(RedstreamOffsetError);
    expect(failures[0]).toMatchObject({ key: offsetKey(), value: 'abc' });
    const lines = logger.matching('error', /the committed offset in .* is "abc", not a stream id/);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines[0].message).toContain(offsetKey());
    expect(lines[0].message).toMatch(/SET it to the id of the last entry handled, or DEL it/);
    expect(handled).toEqual([]);
    expect(worker.isActive).toBe(false);
    // The trimmer refuses too.
    await expect(redstream.trimmer({ stream: 'products' }).trimOnce()).rejects.toThrow(
      /invalid offset in .*offset:products:indexer: abc/,
    );
    expect(await admin.xlen(streamKey())).toBe(5);

    await admin.set(offsetKey(), ids[1]);
    await waitFor(() => handled.length === 3);
    expect(handled).toEqual(ids.slice(2));
  });

  it('an offset beyond the last generated id stalls loudly, and the trimmer deletes nothing', async () => {
    const ids = await write(5);
    await admin.sadd(`${namespace}:redstream:consumers:products`, 'indexer');
    await admin.set(offsetKey(), '99999999999999-0');
    const handled: string[] = [];
    const failures: Error[] = [];
    const worker = consumer(handled);
    worker.on('failed', (error) => failures.push(error));
    worker.start();
    await waitFor(() => failures.length >= 2);
    expect(failures[0]).toBeInstanceOf(RedstreamOffsetError);
    expect(failures[0].message).toContain(
      `the committed offset in ${offsetKey()} is 99999999999999-0, beyond the last id the stream ever generated (${ids[4]})`,
    );
    const more = await write(3);
    await expect(redstream.trimmer({ stream: 'products' }).trimOnce()).rejects.toThrow(
      `offset in ${offsetKey()} (99999999999999-0) is beyond the last id the stream generated (${more[2]}); not trimming`,
    );
    expect(await admin.xlen(streamKey())).toBe(8);
    expect(handled).toEqual([]);

    // Fixed as the error says: everything after it is handled.
    await admin.set(offsetKey(), ids[4]);
    await waitFor(() => handled.length === 3);
    expect(handled).toEqual(more);
  });

  it('reports entries someone else trimmed before the consumer read them, with the range and a count', async () => {
    // Explicit ids in one millisecond: the gap after the trim is provable from the ids alone.
    for (let i = 1; i <= 300; i++) await admin.xadd(streamKey(), `1-${i}`, 'payload', `{"i":${i}}`);
    const { handled, skipped, worker, release } = heldConsumer();
    worker.start();
    await waitFor(() => handled.length === 20);
    await admin.xtrim(streamKey(), 'MAXLEN', 10); // someone else, while the consumer is 280 behind
    release();
    await waitFor(() => handled.includes('1-300'));
    // The batch after the held one (1-21..1-30) was read ahead while the handler waited,
    // before the trim, and is handled; everything else up to 1-290 is gone.
    const readBefore = handled.length === 40 ? 30 : 20;
    expect(handled).toEqual([
      ...Array.from({ length: readBefore }, (_, i) => `1-${i + 1}`),
      ...Array.from({ length: 10 }, (_, i) => `1-${i + 291}`),
    ]);
    const neverHandled = 290 - readBefore;
    expect(skipped).toEqual([[{ from: `1-${readBefore}`, to: '1-291', estimatedCount: neverHandled }]]);
    expect(logger.warnings.filter((line) => /deleted by someone else/.test(line))).toEqual([
      `Consumer products:indexer: entries after the committed offset 1-${readBefore} and before 1-291 were deleted by ` +
        `someone else (XTRIM, XDEL) before they were read: ${neverHandled} entries skipped, never handled (the first entry ` +
        'left is 1-291)',
    ]);
  });

  it('reports a foreign trim with ids from the clock too (checked at most once a second)', async () => {
    const pipeline = admin.pipeline();
    for (let i = 0; i < 300; i++) pipeline.xadd(streamKey(), '*', 'payload', `{"i":${i}}`);
    const ids = ((await pipeline.exec()) ?? []).map(([, id]) => id as string);
    const { handled, skipped, worker, release } = heldConsumer();
    const activeAt = new Promise<number>((resolve) => worker.once('active', () => resolve(Date.now())));
    worker.start();
    await waitFor(() => handled.length === 20);
    await admin.xtrim(streamKey(), 'MAXLEN', 10);
    // Past the once-a-second limit, whatever the first id left looks like.
    const since = await activeAt;
    await waitFor(() => Date.now() - since > 1_100, 5_000);
    release();
    await waitFor(() => handled.includes(ids[299]));
    // As above: the batch read ahead before the trim is handled.
    const readBefore = handled.length === 40 ? 30 : 20;
    expect(handled).toEqual([...ids.slice(0, readBefore), ...ids.slice(290)]);
    expect(skipped).toEqual([[{ from: ids[readBefore - 1], to: ids[290], estimatedCount: 290 - readBefore }]]);
  });

  it('reports entries someone else deleted with XDEL, found when the consumer becomes active', async () => {
    const ids = await write(20);
    await admin.sadd(`${namespace}:redstream:consumers:products`, 'indexer');
    await admin.set(offsetKey(), ids[4]);
    await admin.xdel(streamKey(), ...ids.slice(5, 10));
    const handled: string[] = [];
    const skipped: SkippedRange[][] = [];
    const worker = consumer(handled);
    worker.on('skipped', (ranges) => skipped.push(ranges));
    worker.start();
    await waitFor(() => handled.length === 10);
    expect(skipped).toEqual([[{ from: ids[4], to: nextStreamId(ids[9]), estimatedCount: 5 }]]);
    expect(handled).toEqual(ids.slice(10));
  });

  it("never reports the Trimmer's own deletions, below every committed offset", async () => {
    await write(50);
    const fast: string[] = [];
    const slow: string[] = [];
    const skipped: unknown[] = [];
    const first = consumer(fast, { name: 'fast', batchSize: 7 });
    const second = consumer(slow, { name: 'slow', batchSize: 3 });
    for (const worker of [first, second]) worker.on('skipped', (ranges) => skipped.push(ranges));
    first.start();
    second.start();
    const trimmer = redstream.trimmer({ stream: 'products' });
    let trimmed = 0;
    while (slow.length < 50) {
      trimmed += (await trimmer.trimOnce()).trimmed;
      if (slow.length % 9 === 0) await write(1);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => fast.length === slow.length);
    // Both restart: the activation check sees the trimmer's deletions, all below their offsets.
    await Promise.all([first.stop(), second.stop()]);
    await write(5);
    first.start();
    second.start();
    await waitFor(() => fast.length === slow.length && slow.length >= 55);
    expect(trimmed).toBeGreaterThan(0);
    expect(skipped).toEqual([]);
    expect(logger.warnings.filter((line) => /deleted by someone else/.test(line))).toEqual([]);
  });
});
