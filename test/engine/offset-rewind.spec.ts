import Redis from 'ioredis';
import { Redstream, RedstreamConfigError } from '../../lib/engine';
import { rewindOffset } from '../../lib/engine/offset-rewind';
import { consumerLockName } from '../../lib/engine/redstream-keys';
import { closeTestRedstream, openTestRedstream } from '../support/test-redstream';

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
