import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort, RedisServerHandle, redisServerBinary, startRedisServer } from './redis-server';

/** The master name the sentinels of a {@link RedisSentinelTopology} monitor. */
export const SENTINEL_MASTER_NAME = 'redstream-master';

/**
 * One master, one replica and three sentinels, owned by a test: what a Sentinel-managed Redis
 * looks like in production, small enough to start in a second or two.
 */
export interface RedisSentinelTopology {
  readonly masterName: string;
  readonly sentinels: readonly { host: string; port: number }[];
  /** The data nodes by role at start: `servers[0]` the master, `servers[1]` its replica. */
  readonly servers: readonly RedisServerHandle[];
  /** The port of the node the sentinels name as master now. */
  currentMasterPort(): Promise<number>;
  /**
   * Kills the current master with SIGKILL and waits until the sentinels have promoted the
   * replica and it accepts writes; returns the new master's port.
   */
  killMasterAndWaitForFailover(timeoutMs?: number): Promise<number>;
  /**
   * Starts a node again on the port of one killed by `killMasterAndWaitForFailover`; the
   * sentinels turn it into a replica of the new master. Resolves once it has synced.
   */
  restartAsReplica(port: number, timeoutMs?: number): Promise<void>;
  /** Stops every process and removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

interface SentinelProcess {
  port: number;
  process: ChildProcess;
  exited: Promise<void>;
}

/** Debian's `redis-sentinel` when installed, else the same binary as `redis-server --sentinel`. */
function sentinelCommand(configFile: string): [string, string[]] {
  const found = spawnSync('sh', ['-c', 'command -v redis-sentinel'], { encoding: 'utf8' }).stdout.trim();
  return found ? [found, [configFile]] : [redisServerBinary(), [configFile, '--sentinel']];
}

async function startSentinel(dir: string, masterPort: number): Promise<SentinelProcess> {
  const port = await freePort();
  const configFile = join(dir, `sentinel-${port}.conf`);
  // Sentinel rewrites its own config file as the topology changes, so each has a writable one.
  writeFileSync(
    configFile,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'daemonize no',
      `dir ${dir}`,
      'loglevel warning',
      `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
      `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
      `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
      '',
    ].join('\n'),
  );
  const [command, args] = sentinelCommand(configFile);
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitUntil(
    async () => {
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    },
    10_000,
    `sentinel on port ${port} did not start`,
  );
  return { port, process: child, exited };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

async function withClient<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T | undefined> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
  });
  // A node that is down is an answer here (undefined), not an unhandled error event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/** Starts a master, a replica of it and three sentinels monitoring them, on free ports. */
export async function startRedisSentinelTopology(): Promise<RedisSentinelTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'redstream-sentinel-'));
  const servers: RedisServerHandle[] = [];
  const sentinels: SentinelProcess[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      for (const sentinel of sentinels) if (sentinel.process.exitCode === null) sentinel.process.kill('SIGTERM');
      await Promise.all(sentinels.map((sentinel) => sentinel.exited));
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    })());

  const nodeDir = (port: number): string => {
    const path = join(dir, `node-${port}`);
    mkdirSync(path, { recursive: true });
    return path;
  };

  // The master every sentinel names; undefined while they disagree (a new configuration
  // spreads among them over a second or so) or one does not answer.
  const sentinelMasterPort = async (): Promise<number | undefined> => {
    const replies = await Promise.all(
      sentinels.map((sentinel) =>
        withClient(
          sentinel.port,
          (client) =>
            client.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER_NAME) as Promise<string[] | null>,
        ),
      ),
    );
    const ports = new Set(replies.map((reply) => (reply ? Number(reply[1]) : undefined)));
    const [port] = ports;
    return ports.size === 1 ? port : undefined;
  };

  try {
    const masterPort = await freePort();
    servers.push(await startRedisServer({ port: masterPort, dir: nodeDir(masterPort) }));
    const replicaPort = await freePort();
    servers.push(
      await startRedisServer({
        port: replicaPort,
        dir: nodeDir(replicaPort),
        args: ['--replicaof', '127.0.0.1', String(masterPort)],
      }),
    );
    await waitForReplicaInSync(async () => masterPort, 10_000);
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(dir, masterPort));
    // Every sentinel must know the replica and the other sentinels before a failover can work.
    await waitUntil(
      async () => {
        const views = await Promise.all(
          sentinels.map((sentinel) =>
            withClient(
              sentinel.port,
              async (client) =>
                (await client.call('SENTINEL', 'master', SENTINEL_MASTER_NAME)) as (string | number)[] | undefined,
            ),
          ),
        );
        return views.every((view) => {
          if (!view) return false;
          const fields = new Map<string, string>();
          for (let i = 0; i + 1 < view.length; i += 2) fields.set(String(view[i]), String(view[i + 1]));
          return fields.get('num-slaves') === '1' && fields.get('num-other-sentinels') === '2';
        });
      },
      20_000,
      'the sentinels did not discover the replica and each other',
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const topology: RedisSentinelTopology = {
    masterName: SENTINEL_MASTER_NAME,
    sentinels: sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
    servers,
    async currentMasterPort() {
      let port: number | undefined;
      await waitUntil(
        async () => (port = await sentinelMasterPort()) !== undefined,
        10_000,
        'the sentinels did not agree on a master',
      );
      return port!;
    },
    async killMasterAndWaitForFailover(timeoutMs = 30_000) {
      const oldPort = await topology.currentMasterPort();
      const server = servers.find((candidate) => candidate.port === oldPort && candidate.process.exitCode === null);
      if (!server) throw new Error(`no running node on the master's port ${oldPort}`);
      await server.kill();
      let newPort = oldPort;
      await waitUntil(
        async () => {
          newPort = (await sentinelMasterPort()) ?? oldPort;
          if (newPort === oldPort) return false;
          const role = await withClient(newPort, (client) => client.call('ROLE') as Promise<unknown[]>);
          return role?.[0] === 'master';
        },
        timeoutMs,
        `the sentinels did not promote a replica after the master on port ${oldPort} was killed`,
      );
      return newPort;
    },
    async restartAsReplica(port, timeoutMs = 30_000) {
      const masterPort = await topology.currentMasterPort();
      // Started as a replica right away: as a master it would accept writes, and lose them, until
      // the sentinels reconfigure it.
      servers.push(
        await startRedisServer({ port, dir: nodeDir(port), args: ['--replicaof', '127.0.0.1', String(masterPort)] }),
      );
      // Whichever node the sentinels name master by then: on a loaded machine a sentinel can miss
      // the new master's replies for down-after-milliseconds and fail over once more, to this
      // node. Either way the master has an online replica, which is what WAIT needs.
      await waitForReplicaInSync(async () => (await sentinelMasterPort()) ?? masterPort, timeoutMs).catch(
        async (error: Error) => {
          const own = await withClient(port, (client) => client.info('replication'));
          throw new Error(`${error.message}; the restarted node said: ${own?.replace(/\r\n/g, ' ') ?? 'nothing'}`);
        },
      );
    },
    stop,
  };
  return topology;
}

/** Waits until the master (`master()` tells its port, asked again at each check) has an online replica. */
async function waitForReplicaInSync(master: () => Promise<number>, timeoutMs: number): Promise<void> {
  let masterPort: number | undefined;
  let info: string | undefined;
  await waitUntil(
    async () => {
      masterPort = await master();
      info = await withClient(masterPort, (client) => client.info('replication'));
      return info !== undefined && /slave\d+:.*state=online/.test(info);
    },
    timeoutMs,
    'no replica of the master came online',
  ).catch((error: Error) => {
    throw new Error(
      `${error.message} (master last on port ${masterPort}); it said: ${info?.replace(/\r\n/g, ' ') ?? 'nothing'}`,
    );
  });
}
