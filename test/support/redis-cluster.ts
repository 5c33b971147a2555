import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisServerHandle, startRedisServer } from './redis-server';

/** A Redis Cluster owned by a test: masters, optionally with one or more replicas each. */
export interface RedisClusterHandle {
  readonly nodes: readonly { host: string; port: number }[];
  /** Every node's server, in start order; a node restarted by `restartNode` replaces its entry. */
  readonly servers: readonly RedisServerHandle[];
  /** The port of the master serving `key`'s slot now, as a live node sees it. */
  masterPortOf(key: string): Promise<number>;
  /** The ports of the nodes that are masters with slots now. */
  masterPorts(): Promise<number[]>;
  /**
   * Kills the master of `key`'s slot with SIGKILL and waits until one of its replicas has been
   * promoted and every live node reports `cluster_state:ok`. Returns the killed port.
   */
  killMasterOf(key: string, timeoutMs?: number): Promise<number>;
  /** Starts a killed node again on its port and data directory; it rejoins as a replica. */
  restartNode(port: number, timeoutMs?: number): Promise<void>;
  /**
   * Moves `key`'s slot to the master on `targetPort` the way `redis-cli --cluster reshard`
   * does (SETSLOT IMPORTING / MIGRATING, MIGRATE key by key, SETSLOT NODE on every master),
   * pausing `pauseMs` after each migrated key so that clients meet ASK and TRYAGAIN replies.
   */
  migrateSlotOf(key: string, targetPort: number, pauseMs?: number): Promise<void>;
  /** Runs one command on every live node (e.g. `ACL SETUSER`). */
  onEveryNode(...args: (string | number)[]): Promise<void>;
  /** Stops every node and removes the data directory. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Masters (at least 3). Default 3. */
  masters?: number;
  /** Replicas per master. Default 0. */
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a master may be unreachable before its replica takes over. */
  nodeTimeoutMs?: number;
}

function runRedisCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`redis-cli ${args.join(' ')} exited ${code}: ${output}`)),
    );
  });
}

function nodeClient(port: number): Redis {
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => undefined);
  return client;
}

async function withNode<T>(port: number, run: (client: Redis) => Promise<T>): Promise<T> {
  const client = nodeClient(port);
  try {
    return await run(client);
  } finally {
    client.disconnect();
  }
}

async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

async function waitForClusterOk(ports: readonly number[], timeoutMs: number): Promise<void> {
  await pollUntil(
    async () => {
      const infos = await Promise.all(ports.map((port) => withNode(port, (c) => c.cluster('INFO') as Promise<string>)));
      return infos.every((info) => info.includes('cluster_state:ok'));
    },
    timeoutMs,
    `Redis Cluster on ports ${ports.join(', ')} did not reach cluster_state:ok`,
  );
}

/** `CLUSTER NODES` of `port`, parsed: id, port, flags, master id and slot ranges of each node. */
async function clusterNodes(port: number): Promise<{ id: string; port: number; flags: string[]; slots: string[] }[]> {
  const text = await withNode(port, (c) => c.cluster('NODES') as Promise<string>);
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, , , , , , ...slots] = line.split(' ');
      return { id, port: Number(address.split(':')[1].split('@')[0]), flags: flags.split(','), slots };
    });
}

function servesSlot(ranges: string[], slot: number): boolean {
  return ranges.some((range) => {
    if (range.startsWith('[')) return false;
    const [from, to = from] = range.split('-').map(Number);
    return slot >= from && slot <= to;
  });
}

/**
 * Starts cluster-enabled `redis-server`s on free ports and forms a cluster of them with
 * `redis-cli --cluster create`. A number is the count of masters without replicas.
 */
export async function startRedisCluster(options: number | RedisClusterOptions = 3): Promise<RedisClusterHandle> {
  const {
    masters = 3,
    replicasPerMaster = 0,
    nodeTimeoutMs,
  } = typeof options === 'number' ? { masters: options } : options;
  const dir = mkdtempSync(join(tmpdir(), 'redstream-cluster-'));
  const servers: RedisServerHandle[] = [];
  const nodeArgs = (nodeDir: string): string[] => [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(nodeDir, 'nodes.conf'),
    ...(nodeTimeoutMs === undefined ? [] : ['--cluster-node-timeout', String(nodeTimeoutMs)]),
  ];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  const alive = (): RedisServerHandle[] =>
    servers.filter((server) => server.process.exitCode === null && server.process.signalCode === null);
  const anyAlivePort = (): number => alive()[0].port;
  const slotOf = (key: string): Promise<number> =>
    withNode(anyAlivePort(), async (c) => Number(await c.cluster('KEYSLOT', key)));
  const masterPortOf = async (key: string): Promise<number> => {
    const slot = await slotOf(key);
    const master = (await clusterNodes(anyAlivePort())).find(
      (node) => node.flags.includes('master') && !node.flags.includes('fail') && servesSlot(node.slots, slot),
    );
    if (!master) throw new Error(`no live master serves slot ${slot}`);
    return master.port;
  };

  try {
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
      const nodeDir = join(dir, `node-${i}`);
      mkdirSync(nodeDir);
      servers.push(await startRedisServer({ dir: nodeDir, args: nodeArgs(nodeDir) }));
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await runRedisCli([
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      String(replicasPerMaster),
      '--cluster-yes',
    ]);
    await waitForClusterOk(
      servers.map((server) => server.port),
      30_000,
    );
    if (replicasPerMaster > 0) {
      // Every replica has synced: a failover test must not start while one still loads.
      await pollUntil(
        async () => {
          const nodes = await clusterNodes(servers[0].port);
          const replicas = nodes.filter((node) => node.flags.includes('slave'));
          if (replicas.length < masters * replicasPerMaster) return false;
          const infos = await Promise.all(replicas.map((node) => withNode(node.port, (c) => c.info('replication'))));
          return infos.every((info) => info.includes('master_link_status:up'));
        },
        30_000,
        'the replicas did not sync',
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port })),
    servers,
    masterPortOf,
    masterPorts: async () =>
      (await clusterNodes(anyAlivePort()))
        .filter((node) => node.flags.includes('master') && !node.flags.includes('fail') && node.slots.length > 0)
        .map((node) => node.port),
    killMasterOf: async (key, timeoutMs = 30_000) => {
      const port = await masterPortOf(key);
      const server = servers.find((candidate) => candidate.port === port)!;
      await server.kill();
      await pollUntil(
        async () => (await masterPortOf(key)) !== port,
        timeoutMs,
        `no replica of the master on port ${port} was promoted`,
      );
      await waitForClusterOk(
        alive().map((live) => live.port),
        timeoutMs,
      );
      return port;
    },
    restartNode: async (port, timeoutMs = 30_000) => {
      const index = servers.findIndex((server) => server.port === port);
      const nodeDir = servers[index].dir;
      servers[index] = await startRedisServer({ port, dir: nodeDir, args: nodeArgs(nodeDir) });
      await pollUntil(
        async () => (await withNode(port, (c) => c.info('replication'))).includes('master_link_status:up'),
        timeoutMs,
        `the node on port ${port} did not rejoin as a synced replica`,
      );
    },
    migrateSlotOf: async (key, targetPort, pauseMs = 0) => {
      const slot = await slotOf(key);
      const sourcePort = await masterPortOf(key);
      if (sourcePort === targetPort) return;
      const id = (port: number): Promise<string> => withNode(port, (c) => c.cluster('MYID') as Promise<string>);
      const [sourceId, targetId] = await Promise.all([id(sourcePort), id(targetPort)]);
      await withNode(targetPort, (c) => c.cluster('SETSLOT', slot, 'IMPORTING', sourceId));
      await withNode(sourcePort, async (source) => {
        await source.cluster('SETSLOT', slot, 'MIGRATING', targetId);
        for (;;) {
          const keys = (await source.cluster('GETKEYSINSLOT', slot, 10)) as string[];
          if (keys.length === 0) break;
          for (const migrating of keys) {
            await source.migrate('127.0.0.1', targetPort, migrating, 0, 5_000);
            if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
          }
        }
      });
      // The target first, as redis-cli does: then a client sent back from the source finds it ready.
      await withNode(targetPort, (c) => c.cluster('SETSLOT', slot, 'NODE', targetId));
      await withNode(sourcePort, (c) => c.cluster('SETSLOT', slot, 'NODE', targetId));
      for (const port of await (async () =>
        (await clusterNodes(targetPort))
          .filter((node) => node.flags.includes('master') && !node.flags.includes('fail'))
          .map((node) => node.port))()) {
        if (port !== sourcePort && port !== targetPort) {
          await withNode(port, (c) => c.cluster('SETSLOT', slot, 'NODE', targetId));
        }
      }
    },
    onEveryNode: async (...args) => {
      await Promise.all(
        alive().map((server) => withNode(server.port, (c) => c.call(String(args[0]), ...args.slice(1)))),
      );
    },
    stop,
  };
}
