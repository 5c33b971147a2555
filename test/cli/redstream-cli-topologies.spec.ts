import Redis, { Cluster } from 'ioredis';
import { Redstream, RedstreamStatus, silentLogger } from '../../lib/engine';
import {
  buildExecutable,
  CliExecutable,
  CliRun,
  removeExecutable,
  runExecutable,
  withoutAges,
} from '../support/cli-executable';
import { RedisClusterHandle, startRedisCluster } from '../support/redis-cluster';
import { RedisSentinelTopology, startRedisSentinelTopology } from '../support/redis-sentinel';
import { uniqueNamespace } from '../support/test-redis';

// The `redstream` command pointed at a Redis Cluster (--cluster) or a Sentinel-managed Redis
// (--sentinel with --master-name) instead of one URL.
describe('the redstream command on a Cluster or behind Sentinel', () => {
  let executable: CliExecutable;

  /**
   * Runs the executable with REDIS_URL on a closed port: a command that fell back to it instead
   * of the topology named by its options would fail.
   */
  const run = (...args: string[]): Promise<CliRun> =>
    runExecutable(executable, args, { ...process.env, REDIS_URL: 'redis://127.0.0.1:1' });
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await run('--json', ...args);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(result.stdout) as T;
  };
  const address = ({ host, port }: { host: string; port: number }): string => `${host}:${port}`;

  beforeAll(() => {
    executable = buildExecutable();
  }, 180_000);
  afterAll(() => removeExecutable(executable));

  describe('usage', () => {
    it('takes only one of --redis, --cluster and --sentinel, naming the ones given (exit 2)', async () => {
      for (const [args, named] of [
        [['--redis', 'redis://127.0.0.1:6379', '--cluster', '127.0.0.1:7000'], '--redis and --cluster'],
        [
          ['--cluster', '127.0.0.1:7000', '--sentinel', '127.0.0.1:26379', '--master-name', 'm'],
          '--cluster and --sentinel',
        ],
        [
          ['--redis', 'redis://127.0.0.1:6379', '--sentinel', '127.0.0.1:26379', '--master-name', 'm'],
          '--redis and --sentinel',
        ],
      ] as const) {
        const result = await run(...args, 'status');
        expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(result.stderr).toBe(
          `redstream: pass only one of --redis, --cluster and --sentinel; got ${named}\n` +
            `Run 'redstream --help' for usage.\n`,
        );
      }
    });

    it('requires --master-name with --sentinel, and --sentinel with the Sentinel options (exit 2)', async () => {
      const missing = await run('--sentinel', '127.0.0.1:26379', 'status');
      expect(missing).toEqual({
        code: 2,
        stdout: '',
        stderr:
          'redstream: --sentinel needs --master-name <name>: the name the sentinels monitor the master under\n' +
          `Run 'redstream --help' for usage.\n`,
      });
      const alone = await run('--master-name', 'mymaster', '--sentinel-password', 'x', 'status');
      expect(alone.code).toBe(2);
      expect(alone.stderr).toMatch(
        /^redstream: --master-name and --sentinel-password go with --sentinel <host:port>\n/,
      );
    });

    it('refuses a node that is not <host>:<port> (exit 2)', async () => {
      for (const value of ['127.0.0.1', 'redis://127.0.0.1:7000', '127.0.0.1:0', ':7000', '::1:7000']) {
        for (const option of ['--cluster', '--sentinel']) {
          const result = await run(option, value, 'status');
          expect({ option, value, code: result.code, stdout: result.stdout }).toEqual({
            option,
            value,
            code: 2,
            stdout: '',
          });
          expect(result.stderr).toContain(`expected <host>:<port>, got ${JSON.stringify(value)}`);
        }
      }
    });

    it('exits 1 when no node or sentinel answers, naming them', async () => {
      expect(await run('--cluster', '127.0.0.1:1', 'status')).toEqual({
        code: 1,
        stdout: '',
        stderr:
          'redstream: cannot reach Redis at Cluster nodes 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 ' +
          '(check the --cluster nodes)\n',
      });
      const sentinel = await run('--sentinel', '127.0.0.1:1', '--master-name', 'mymaster', 'status');
      expect(sentinel.code).toBe(1);
      expect(sentinel.stdout).toBe('');
      expect(sentinel.stderr).toMatch(
        /^redstream: cannot reach Redis at Sentinel master "mymaster" via 127\.0\.0\.1:1: .*ECONNREFUSED 127\.0\.0\.1:1.* \(check --sentinel and --master-name\)\n$/,
      );
    });
  });

  describe('--cluster', () => {
    let cluster: RedisClusterHandle;
    let client: Cluster;
    let redstream: Redstream;
    const namespace = uniqueNamespace('cli-cluster');

    beforeAll(async () => {
      cluster = await startRedisCluster();
      client = new Cluster([...cluster.nodes], { redisOptions: { maxRetriesPerRequest: 3 } });
      redstream = new Redstream({ redis: client, namespace, logger: silentLogger });
    }, 60_000);
    afterAll(async () => {
      await redstream?.close();
      client?.disconnect();
      await cluster?.stop();
    });

    it('status --json through the startup nodes shows every master’s streams, consumers and lag', async () => {
      // Two streams on two masters: a status that read one node only would miss one.
      expect(await cluster.masterPortOf(redstream.keys.stream('{products}'))).not.toBe(
        await cluster.masterPortOf(redstream.keys.stream('{orders}')),
      );
      const { keys } = redstream;
      const products: string[] = [];
      for (let i = 0; i < 5; i++) products.push((await client.xadd(keys.stream('{products}'), '*', 'payload', '{}'))!);
      const orders: string[] = [];
      for (let i = 0; i < 2; i++) orders.push((await client.xadd(keys.stream('{orders}'), '*', 'payload', '{}'))!);
      await client.sadd(keys.consumerRegistry('{products}'), 'indexer');
      await client.set(keys.offset('{products}', 'indexer'), products[1]);
      await client.set(keys.lock('consumer:{products}:indexer'), 'owner-7', 'PX', 60_000);
      await client.set(keys.offset('{orders}', 'mailer'), '0-0');

      // Two of the three nodes: the Cluster finds the third itself.
      const args = ['--cluster', address(cluster.nodes[0]), '--cluster', address(cluster.nodes[1])];
      const printed = await json<RedstreamStatus>(...args, '--namespace', namespace, 'status');
      expect(withoutAges(printed)).toEqual(withoutAges(await redstream.status()));
      const byName = new Map(printed.streams.map((stream) => [stream.stream, stream]));
      expect([...byName.keys()].sort()).toEqual(['{orders}', '{products}']);
      expect(byName.get('{products}')!.consumers).toEqual([
        expect.objectContaining({ name: 'indexer', lag: 3, active: true, owner: 'owner-7' }),
      ]);
      expect(byName.get('{orders}')!.consumers).toEqual([expect.objectContaining({ name: 'mailer', lag: 2 })]);

      // A change through the engine's scripts reaches the master of the stream's slot.
      expect(await json(...args, '--namespace', namespace, 'rewind', '{orders}', 'mailer', '--to', 'end')).toEqual(
        expect.objectContaining({ previous: '0-0', offset: orders[1], entries: 0 }),
      );
      expect(await redstream.committedOffset('{orders}', 'mailer')).toBe(orders[1]);
    });
  });

  describe('--sentinel', () => {
    let topology: RedisSentinelTopology;
    let admin: Redis;
    let redstream: Redstream;
    const namespace = uniqueNamespace('cli-sentinel');

    beforeAll(async () => {
      topology = await startRedisSentinelTopology();
      const options = { sentinels: [...topology.sentinels], name: topology.masterName };
      admin = new Redis({ ...options, maxRetriesPerRequest: 3 });
      redstream = new Redstream({ redis: options, namespace, logger: silentLogger });
    }, 60_000);
    afterAll(async () => {
      await redstream?.close();
      admin?.disconnect();
      await topology?.stop();
    });

    it('status --json through the sentinels reads the master they name', async () => {
      const { keys } = redstream;
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await admin.xadd(keys.stream('products'), '*', 'payload', '{}'))!);
      await admin.sadd(keys.consumerRegistry('products'), 'indexer');
      await admin.set(keys.offset('products', 'indexer'), ids[0]);

      const sentinels = topology.sentinels.flatMap((sentinel) => ['--sentinel', address(sentinel)]);
      const printed = await json<RedstreamStatus>(
        ...sentinels,
        '--master-name',
        topology.masterName,
        '--namespace',
        namespace,
        'status',
      );
      expect(withoutAges(printed)).toEqual(withoutAges(await redstream.status()));
      expect(printed.streams).toEqual([
        expect.objectContaining({
          stream: 'products',
          length: 4,
          consumers: [expect.objectContaining({ name: 'indexer', lag: 3, active: false })],
        }),
      ]);

      // A wrong master name: the sentinels know none by it.
      const unknown = await run(...sentinels, '--master-name', 'nobody', '--namespace', namespace, 'status');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^redstream: cannot reach Redis at Sentinel master "nobody" via .*\n$/);
    });
  });
});
