import { execFile } from 'node:child_process';
import Redis from 'ioredis';
import { Consumer, Redstream, RedstreamStatus } from '../../lib/engine';
import {
  buildExecutable,
  CliExecutable,
  CliRun as Run,
  removeExecutable,
  runExecutable,
  withoutAges,
} from '../support/cli-executable';
import { testRedisUrl, waitFor } from '../support/test-redis';
import { RedisMonitor } from '../support/redis-monitor';
import { closeTestRedstream, openTestRedstream, writeAgedEntries } from '../support/test-redstream';

describe('the redstream command', () => {
  let executable: CliExecutable;
  let namespace: string;
  let redstream: Redstream;
  let admin: Redis;
  const workers: Consumer[] = [];

  /** Runs the executable in a process of its own; never blocks this one (a consumer may run here). */
  const run = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    runExecutable(executable, args, { ...process.env, REDIS_URL: testRedisUrl(), ...env });
  /** Runs in this test's namespace. */
  const cli = (...args: string[]): Promise<Run> => run(['--namespace', namespace, ...args]);
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await cli('--json', ...args);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(result.stdout) as T;
  };
  const streamKey = (stream = 'products'): string => redstream.keys.stream(stream);
  const write = async (count: number, stream = 'products'): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await admin.xadd(streamKey(stream), '*', 'payload', `{"id":${i}}`))!);
    return ids;
  };
  const deadLetter = (originalId: string, error: string): Promise<string | null> =>
    admin.xadd(
      redstream.keys.deadLetterStream('products'),
      '*',
      'original_id',
      originalId,
      'payload',
      `{"dead":"${originalId}"}`,
      'group',
      'search',
      'member',
      'm1',
      'deliveries',
      '3',
      'error',
      error,
      'dead_at',
      String(Date.now()),
    );

  beforeAll(() => {
    executable = buildExecutable();
  }, 180_000);
  afterAll(() => removeExecutable(executable));
  beforeEach(() => {
    ({ namespace, redstream, admin } = openTestRedstream('cli'));
  });
  afterEach(() => closeTestRedstream({ redstream, admin }, workers));

  describe('usage', () => {
    it('prints help with every command and exits 0', async () => {
      const help = await run(['--help']);
      expect(help.code).toBe(0);
      for (const command of ['status', 'lag', 'peek', 'rewind', 'forget', 'trim', 'dead']) {
        expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
      }
      const dead = await run(['dead', '--help']);
      expect(dead.stdout).toMatch(/list .*\n.*replay.*\n(.*\n)*.*drop/);
    });

    it('exits 2 on a usage error, with the usage on stderr and nothing on stdout', async () => {
      for (const args of [
        ['nonsense'],
        ['peek'],
        ['peek', 'products', '--count', '0'],
        ['rewind', 'products', 'indexer'],
        ['rewind', 'products', 'indexer', '--to', 'yesterday'],
        ['status', 'bad:name'],
        ['--namespace', 'a b', 'status'],
        ['dead', 'drop', 'products'],
        ['dead', 'replay', 'products', '--ids', 'not-an-id'],
      ]) {
        const result = await run(args);
        expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(result.stderr).not.toBe('');
        expect(result.stderr).not.toMatch(/^\s+at /m);
      }
    });

    it('names the accepted forms of --to, in the words the dashboard uses', async () => {
      const result = await run(['rewind', 'products', 'indexer', '--to', 'yesterday']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'rewind: the target must be "start", "end", a stream id (<ms>-<seq>) or an ISO 8601 time ' +
          'such as 2026-11-30T08:00:00Z; got "yesterday"',
      );
    });

    it('exits 1 when Redis is unreachable, naming the URL without its password, with no stack', async () => {
      const result = await run(['status'], { REDIS_URL: 'redis://user:secret@127.0.0.1:1' });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        'redstream: cannot reach Redis at redis://***@127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 ' +
          '(set --redis <url> or REDIS_URL)\n',
      );
      // --redis wins over REDIS_URL.
      const flagged = await run(['--redis', 'redis://127.0.0.1:2', 'status']);
      expect(flagged.stderr).toContain('redis://127.0.0.1:2');
    });
  });

  describe('status and lag', () => {
    it('status --json prints exactly Redstream.status(); the tables show owner, offset, lag and groups', async () => {
      const ids = await write(6);
      await admin.xadd(redstream.keys.delayStream('products'), '*', 'payload', '{}');
      await deadLetter(ids[0], 'Error: boom');
      await admin.sadd(redstream.keys.consumerRegistry('products'), 'indexer');
      await admin.set(redstream.keys.offset('products', 'indexer'), ids[1]);
      await admin.set(redstream.keys.lock('consumer:products:indexer'), 'owner-42', 'PX', 60_000);
      await admin.xgroup('CREATE', streamKey(), 'search', '0');
      await admin.xreadgroup('GROUP', 'search', 'm1', 'COUNT', 2, 'STREAMS', streamKey(), '>');

      const printed = await json<RedstreamStatus>('status');
      expect(withoutAges(printed)).toEqual(withoutAges(await redstream.status()));
      expect(printed.streams[0]).toMatchObject({ stream: 'products', length: 6, deadLetters: 1 });
      expect(printed.streams[0].consumers[0]).toMatchObject({
        name: 'indexer',
        lag: 4,
        active: true,
        owner: 'owner-42',
      });

      const human = await cli('status');
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^STREAM +LENGTH +DELAYED +OLDEST DELAYED +DEAD LETTERS$/m);
      expect(human.stdout).toMatch(/^products +6 +1 +\S+ +1$/m);
      expect(human.stdout).toMatch(new RegExp(`^products +indexer +yes +owner-42 +${ids[1]} +4 +\\S+$`, 'm'));
      expect(human.stdout).toMatch(new RegExp(`^products +search +1 +2 +\\S+ +4 +\\S+ +${ids[1]}$`, 'm'));

      // Only the streams asked for.
      await write(1, 'other');
      expect((await json<RedstreamStatus>('status', 'other')).streams.map((stream) => stream.stream)).toEqual([
        'other',
      ]);
    });

    it('status says when the namespace has no streams', async () => {
      const result = await cli('status');
      expect(result).toEqual({ code: 0, stdout: `No streams in namespace ${namespace}.\n`, stderr: '' });
    });

    it('lag lists consumers, groups and the delay backlog, for one stream or all', async () => {
      const ids = await write(3);
      await write(2, 'orders');
      await admin.set(redstream.keys.offset('products', 'indexer'), ids[0]);
      await admin.set(redstream.keys.offset('orders', 'mailer'), '0-0');
      await admin.xgroup('CREATE', streamKey(), 'search', '$');
      await admin.xadd(redstream.keys.delayStream('products'), '*', 'payload', '{}');

      const rows = await json<{ stream: string; kind: string; name: string; lag: number; lagMs: number }[]>('lag');
      expect(rows.map(({ lagMs: _lagMs, ...row }) => row)).toEqual([
        { stream: 'orders', kind: 'consumer', name: 'mailer', lag: 2 },
        { stream: 'products', kind: 'consumer', name: 'indexer', lag: 2 },
        { stream: 'products', kind: 'group', name: 'search', lag: 0 },
        { stream: 'products', kind: 'delayer', name: 'delayer', lag: 1 },
      ]);
      const one = await cli('lag', 'orders');
      expect(one.stdout).toMatch(/^STREAM +KIND +NAME +LAG +LAG AGE\norders +consumer +mailer +2 +\S+\n$/);
    });
  });

  it('peek shows entries from an id on, as a table or JSON', async () => {
    const ids = await write(5);
    const page = await json<{
      stream: string;
      entries: { id: string; ageMs: number; fields: Record<string, string> }[];
    }>('peek', 'products', '--count', '2', '--from', ids[2]);
    expect(page).toEqual({
      stream: 'products',
      entries: [
        { id: ids[2], ageMs: expect.any(Number), fields: { payload: '{"id":2}' } },
        { id: ids[3], ageMs: expect.any(Number), fields: { payload: '{"id":3}' } },
      ],
    });
    // A Redis error mid-command: one line naming the URL, exit 1.
    await admin.set(streamKey('not-a-stream'), 'x');
    const failed = await cli('peek', 'not-a-stream');
    expect(failed).toEqual({
      code: 1,
      stdout: '',
      stderr: `redstream: Redis at ${testRedisUrl()} failed: WRONGTYPE Operation against a key holding the wrong kind of value\n`,
    });
    const human = await cli('peek', 'products', '--count', '1');
    expect(human.stdout).toMatch(new RegExp(`^ID +AGE +FIELDS\n${ids[0]} +\\S+ +payload=\\{"id":0\\}\n$`));
  });

  it("peek's ages are the engine's: the stream node's clock, as lag reads it", async () => {
    const ids = await writeAgedEntries(admin, streamKey(), 2, 60_000);
    await admin.set(redstream.keys.offset('products', 'indexer'), '0-0');
    const monitor = await RedisMonitor.open(admin);
    try {
      const page = await json<{ entries: { id: string; ageMs: number }[] }>('peek', 'products', '--count', '1');
      const [lag] = await json<{ lagMs: number }[]>('lag', 'products');
      await monitor.caughtUp(admin, `${namespace}:monitor-mark`);

      expect(page.entries.map((entry) => entry.id)).toEqual([ids[0]]);
      expect(page.entries[0].ageMs).toBeGreaterThanOrEqual(60_000);
      expect(page.entries[0].ageMs).toBeLessThan(lag.lagMs + 5_000);
      expect(lag.lagMs).toBeGreaterThanOrEqual(page.entries[0].ageMs);
      // TIME only inside the engine's script on the stream's key, never sent to whichever node.
      expect(monitor.commands.filter(({ args, source }) => args[0] === 'time' && source !== 'lua')).toEqual([]);
    } finally {
      monitor.close();
    }
  });

  describe('rewind', () => {
    it('refuses while the consumer runs, naming its owner, and rewinds with --force', async () => {
      const ids = await write(4);
      const consumer = redstream.consumer({ stream: 'products', name: 'indexer', handler: () => undefined });
      workers.push(consumer);
      consumer.start();
      await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === ids[3]);
      const owner = (await admin.get(redstream.keys.lock('consumer:products:indexer')))!;

      const refused = await cli('rewind', 'products', 'indexer', '--to', 'start');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain(`consumer indexer of products is active: instance ${owner} holds its lock`);
      expect(refused.stderr).toContain('--force');
      expect(await redstream.committedOffset('products', 'indexer')).toBe(ids[3]);

      const forced = await cli('--json', 'rewind', 'products', 'indexer', '--to', 'start', '--force');
      expect(forced.code).toBe(0);
      expect(forced.stderr).toContain(`warning: instance ${owner} holds the consumer's lock`);
      expect(JSON.parse(forced.stdout)).toEqual({
        stream: 'products',
        consumer: 'indexer',
        previous: ids[3],
        offset: '0-0',
        entries: 4,
        forced: true,
      });
    });

    it('sets the offset in the gem format so that the consumer reads from the target on', async () => {
      // A second apart, so that a time falls between two entries.
      const base = Date.now() - 10_000;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await admin.xadd(streamKey(), `${base + i * 1_000}-0`, 'payload', `{"id":${i}}`))!);
      }
      await admin.set(redstream.keys.offset('products', 'indexer'), ids[4]);
      const rewind = async (to: string): Promise<{ offset: string; entries: number }> =>
        json<{ offset: string; entries: number }>('rewind', 'products', 'indexer', '--to', to);

      // An id: read again from that entry on (the offset is the entry before it).
      expect(await rewind(ids[2])).toMatchObject({ offset: ids[1], entries: 3 });
      expect(await redstream.committedOffset('products', 'indexer')).toBe(ids[1]);
      expect(await rewind('end')).toMatchObject({ offset: ids[4], entries: 0 });
      expect(await rewind('start')).toMatchObject({ offset: '0-0', entries: 5 });
      // A time: from the first entry written at or after it.
      expect(await rewind(new Date(base + 1_500).toISOString())).toMatchObject({ offset: ids[1], entries: 3 });
      expect(await rewind(new Date(base + 2_000).toISOString())).toMatchObject({ offset: ids[1], entries: 3 });
      expect(await rewind('2000-01-01T00:00:00Z')).toMatchObject({ offset: '0-0', entries: 5 });

      // And a consumer started now reads exactly those entries.
      await rewind(ids[3]);
      const seen: string[] = [];
      const consumer = redstream.consumer({
        stream: 'products',
        name: 'indexer',
        handler: (messages) => void seen.push(...messages.map((message) => message.id)),
      });
      workers.push(consumer);
      consumer.start();
      await waitFor(() => seen.length >= 2);
      expect(seen).toEqual([ids[3], ids[4]]);

      const human = await cli('rewind', 'products', 'other', '--to', 'start');
      expect(human.stdout).toBe(
        `Consumer other of products: offset (none) -> 0-0; 5 entries to read from ${ids[0]} on.\n`,
      );
    });

    it('shows the count of entries to read again with a progress bar when asked', async () => {
      await admin.set(redstream.keys.offset('products', 'indexer'), '0-0');
      const pipeline = admin.pipeline();
      for (let i = 0; i < 25_000; i++) pipeline.xadd(streamKey(), '*', 'payload', '{}');
      await pipeline.exec();
      const result = await cli('--progress', 'rewind', 'products', 'indexer', '--to', 'start');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('25000 entries to read');
      expect(result.stderr).toMatch(/Counting .*100% \| 25000\/25000/);
    });
  });

  it('forget removes the consumer from the registry and keeps its offset', async () => {
    await admin.sadd(redstream.keys.consumerRegistry('products'), 'indexer', 'other');
    await admin.set(redstream.keys.offset('products', 'indexer'), '0-0');
    expect(await json('forget', 'products', 'indexer')).toEqual({
      stream: 'products',
      consumer: 'indexer',
      forgotten: true,
    });
    expect(await redstream.registeredConsumers('products')).toEqual(['other']);
    expect(await redstream.committedOffset('products', 'indexer')).toBe('0-0');
    const again = await cli('forget', 'products', 'indexer');
    expect(again).toEqual({
      code: 0,
      stdout: 'Consumer indexer was not registered on products; nothing to forget.\n',
      stderr: '',
    });
  });

  describe('trim', () => {
    it('--dry-run tells the count and id range and deletes nothing; without it, trims exactly that', async () => {
      const ids = await write(10);
      await admin.sadd(redstream.keys.consumerRegistry('products'), 'a', 'b');
      await admin.set(redstream.keys.offset('products', 'a'), ids[7]);
      await admin.set(redstream.keys.offset('products', 'b'), ids[4]);

      const dry = await cli('trim', 'products', '--dry-run');
      expect(dry).toEqual({
        code: 0,
        stdout: `A trim of products would delete 5 entries: ${ids[0]} .. ${ids[4]}.\n`,
        stderr: '',
      });
      expect(await json('trim', 'products', '--dry-run')).toEqual({
        stream: 'products',
        dryRun: true,
        entries: 5,
        firstId: ids[0],
        lastId: ids[4],
        consumers: ['a', 'b'],
      });
      expect(await admin.xlen(streamKey())).toBe(10);

      // A consumer the registry does not know yet (--consumer) without an offset blocks it.
      expect(await json('trim', 'products', '--dry-run', '--consumer', 'c')).toMatchObject({
        entries: 0,
        skipped: 'consumer-without-offset',
      });
      expect(await json('trim', 'products')).toEqual({
        stream: 'products',
        dryRun: false,
        trimmed: 5,
        consumers: ['a', 'b'],
      });
      expect((await admin.xrange(streamKey(), '-', '+')).map(([id]) => id)).toEqual(ids.slice(5));
      // The run's lock is released at once: the next run is not 'locked'.
      expect(await admin.exists(redstream.keys.lock('trimmer:products'))).toBe(0);
      const nothing = await cli('trim', 'products');
      expect(nothing.stdout).toBe('Deleted nothing from products: nothing below what every reader still needs.\n');
    });

    it('does not trim while another trimmer holds the lock', async () => {
      await write(3);
      await admin.set(redstream.keys.lock('trimmer:products'), 'someone', 'PX', 60_000);
      expect(await json('trim', 'products')).toMatchObject({ trimmed: 0, skipped: 'locked' });
    });
  });

  describe('dead', () => {
    it('lists, replays with a progress bar, and drops dead letters', async () => {
      const ids = await write(2);
      const dead: string[] = [];
      for (let i = 0; i < 150; i++) dead.push((await deadLetter(ids[i % 2], `Error: failure ${i}`))!);

      const page = await json<{ deadLetters: { id: string; error: string }[]; nextStart?: string }>(
        'dead',
        'list',
        'products',
        '--count',
        '2',
      );
      expect(page.deadLetters.map((letter) => letter.id)).toEqual(dead.slice(0, 2));
      expect(page.nextStart).toBe(dead[2]);
      const table = await cli('dead', 'list', 'products', '--count', '1', '--from', dead[1]);
      expect(table.stdout).toMatch(/^ID +ORIGINAL ID +GAVE UP +DELIVERIES +DEAD AT +ERROR\n/);
      expect(table.stdout).toContain(`${dead[1]}  ${ids[1]}`);
      expect(table.stdout).toContain('group search');
      expect(table.stdout).toContain(`More: --from ${dead[2]}`);

      const dropped = await json('dead', 'drop', 'products', '--ids', dead[0], dead[1]);
      expect(dropped).toEqual({ stream: 'products', dropped: 2 });

      // Not a terminal: no bar unless asked for.
      const one = await cli('dead', 'replay', 'products', '--ids', dead[2], '0-1');
      expect(one).toEqual({
        code: 0,
        stdout: 'Replayed 1 dead letter onto products; 1 not found: 0-1.\n',
        stderr: '',
      });

      const replay = await cli('--progress', '--json', 'dead', 'replay', 'products');
      expect(replay.code).toBe(0);
      expect(replay.stderr).toMatch(/Replaying .*100% \| 147\/147/);
      const result = JSON.parse(replay.stdout) as { replayed: { deadLetterId: string; entryId: string }[] };
      expect(result.replayed.map((entry) => entry.deadLetterId)).toEqual(dead.slice(3));
      expect(await admin.xlen(redstream.keys.deadLetterStream('products'))).toBe(0);
      expect(await admin.xlen(streamKey())).toBe(2 + 1 + 147);

      await deadLetter(ids[0], 'Error: again');
      expect(await json('dead', 'drop', 'products', '--all')).toEqual({ stream: 'products', dropped: 1 });
    });

    // util-linux `script` gives the command a pseudo-terminal, as a person's shell would.
    it('draws the bar on its own when stderr is a terminal, and not with --no-progress', async () => {
      const [id] = await write(1);
      const inTerminal = (...args: string[]): Promise<Run> => {
        const command = [process.execPath, executable.bin, '--namespace', namespace, ...args]
          .map((part) => `'${part}'`)
          .join(' ');
        return new Promise((resolve) => {
          execFile(
            'script',
            ['-qec', command, '/dev/null'],
            { env: { ...process.env, REDIS_URL: testRedisUrl() }, timeout: 60_000 },
            (error, stdout, stderr) =>
              resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
          );
        });
      };
      for (let i = 0; i < 3; i++) await deadLetter(id, 'Error: x');
      const drawn = await inTerminal('dead', 'replay', 'products');
      expect(drawn.code).toBe(0);
      expect(drawn.stdout).toMatch(/Replaying .*100% \| 3\/3/);
      expect(drawn.stdout).toContain('Replayed 3 dead letters onto products.');

      for (let i = 0; i < 3; i++) await deadLetter(id, 'Error: x');
      const quiet = await inTerminal('--no-progress', 'dead', 'replay', 'products');
      expect(quiet.code).toBe(0);
      expect(quiet.stdout).not.toContain('Replaying');
      expect(quiet.stdout).toContain('Replayed 3 dead letters onto products.');
    });
  });
});
