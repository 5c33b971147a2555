import Redis from 'ioredis';
import { Redstream, RedstreamConfigError } from '../../lib/engine';
import { parseRewindTarget, rewindOffset } from '../../lib/engine/offset-rewind';
import { consumerLockName } from '../../lib/engine/redstream-keys';
import { closeTestRedstream, openTestRedstream } from '../support/test-redstream';

// What an operator writes as a target (the CLI's `--to`, the dashboard's `to`), read in one place.
describe('parseRewindTarget', () => {
  it('reads start, end and stream ids as they are', () => {
    expect(parseRewindTarget('start')).toEqual({ kind: 'start' });
    expect(parseRewindTarget('end')).toEqual({ kind: 'end' });
    expect(parseRewindTarget('1700000000000-0')).toEqual({ kind: 'id', id: '1700000000000-0' });
    expect(parseRewindTarget('1700000000000-18446744073709551615')).toEqual({
      kind: 'id',
      id: '1700000000000-18446744073709551615',
    });
    // An id without a sequence is Redis's shorthand for <ms>-0.
    expect(parseRewindTarget('1700000000000')).toEqual({ kind: 'id', id: '1700000000000' });
  });

  it('reads ISO 8601 dates and times, with Z or an offset, as ms since the epoch', () => {
    expect(parseRewindTarget('2026-11-30T08:00:00Z')).toEqual({ kind: 'time', ms: Date.UTC(2026, 10, 30, 8) });
    expect(parseRewindTarget('2026-11-30T08:00:00.250Z')).toEqual({
      kind: 'time',
      ms: Date.UTC(2026, 10, 30, 8, 0, 0, 250),
    });
    expect(parseRewindTarget('2026-11-30T09:00:00+01:00')).toEqual({ kind: 'time', ms: Date.UTC(2026, 10, 30, 8) });
    // A date alone is midnight UTC (ECMAScript's rule for the date-only form).
    expect(parseRewindTarget('2026-11-30')).toEqual({ kind: 'time', ms: Date.UTC(2026, 10, 30) });
    expect(parseRewindTarget('1970-01-01T00:00:00Z')).toEqual({ kind: 'time', ms: 0 });
  });

  it('refuses anything else with a RedstreamConfigError naming the accepted forms', () => {
    const accepted =
      'rewind: the target must be "start", "end", a stream id (<ms>-<seq>) or an ISO 8601 time ' +
      'such as 2026-11-30T08:00:00Z; got ';
    for (const [value, shown] of [
      ['yesterday', '"yesterday"'],
      ['', '""'],
      ['START', '"START"'],
      ['1700000000000-x', '"1700000000000-x"'],
      // Date.parse would take these; their meaning depends on the JavaScript engine.
      ['May 5 2026', '"May 5 2026"'],
      ['2026/11/30', '"2026/11/30"'],
      ['2026-13-45', '"2026-13-45"'],
      // Before any entry id could be.
      ['1969-12-31T23:59:59Z', '"1969-12-31T23:59:59Z"'],
      [42, '42'],
      [null, 'null'],
      [undefined, 'undefined'],
      [{ kind: 'start' }, '{"kind":"start"}'],
    ] as const) {
      expect(() => parseRewindTarget(value)).toThrow(new RedstreamConfigError(`${accepted}${shown}`));
    }
  });
});

// The engine call behind `redstream rewind` and the dashboard's rewind, without the CLI's own
// parsing in front: what it refuses, and that the lock check and the write are one step.
describe('rewindOffset', () => {
  let redstream: Redstream;
  let admin: Redis;
  const offsetKey = (): string => redstream.keys.offset('products', 'indexer');
  const rewind = (target: Parameters<typeof rewindOffset>[4], force = false): ReturnType<typeof rewindOffset> =>
    rewindOffset(redstream.client, redstream.keys, 'products', 'indexer', target, { force });

  beforeEach(async () => {
    ({ redstream, admin } = openTestRedstream());
    for (const id of ['1000-0', '2000-0', '3000-0']) {
      await admin.xadd(redstream.keys.stream('products'), id, 'payload', '{}');
    }
    await admin.set(offsetKey(), '3000-0');
  });
  afterEach(() => closeTestRedstream({ redstream, admin }));

  it('refuses a target that is not a stream id or a time, writing nothing', async () => {
    await expect(rewind({ kind: 'id', id: 'abc' })).rejects.toThrow(RedstreamConfigError);
    await expect(rewind({ kind: 'id', id: 'abc' })).rejects.toThrow('rewind: "abc" is not a Redis stream id');
    await expect(rewind({ kind: 'time', ms: -1 })).rejects.toThrow('rewind: -1 is not a time in ms since the epoch');
    await expect(rewind({ kind: 'time', ms: 1.5 })).rejects.toThrow(RedstreamConfigError);
    expect(await admin.get(offsetKey())).toBe('3000-0');
  });

  it('sets the offset to the entry before the target id or time', async () => {
    expect(await rewind({ kind: 'id', id: '2000-0' })).toEqual({
      status: 'rewound',
      previous: '3000-0',
      offset: '1000-0',
    });
    expect(await rewind({ kind: 'time', ms: 2500 })).toMatchObject({ offset: '2000-0' });
    expect(await rewind({ kind: 'id', id: '0-0' })).toMatchObject({ offset: '0-0' });
    expect(await admin.get(offsetKey())).toBe('0-0');
  });

  it('refuses while the lock is held, naming the owner, unless forced', async () => {
    await admin.set(redstream.keys.lock(consumerLockName('products', 'indexer')), 'owner-1', 'PX', 60_000);
    expect(await rewind({ kind: 'start' })).toEqual({ status: 'active', owner: 'owner-1' });
    expect(await admin.get(offsetKey())).toBe('3000-0');
    expect(await rewind({ kind: 'start' }, true)).toEqual({
      status: 'rewound',
      previous: '3000-0',
      offset: '0-0',
      owner: 'owner-1',
    });
    expect(await admin.get(offsetKey())).toBe('0-0');
  });
});
