import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisServerHandle, startRedisServer } from './redis-server';

/** A Redis Cluster of masters without replicas, owned by a test. */
export interface RedisClusterHandle {
  readonly nodes: readonly { host: string; port: number }[];
  readonly servers: readonly RedisServerHandle[];
  /** Stops every node and removes the data directory. Idempotent. */
  stop(): Promise<void>;
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

async function waitForClusterOk(ports: readonly number[], timeoutMs: number): Promise<void> {
  const clients = ports.map((port) => new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 }));
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const infos = await Promise.all(clients.map((client) => client.cluster('INFO') as Promise<string>));
      if (infos.every((info) => info.includes('cluster_state:ok'))) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Redis Cluster on ports ${ports.join(', ')} did not reach cluster_state:ok within ${timeoutMs} ms`);
  } finally {
    clients.forEach((client) => client.disconnect());
  }
}

/** Starts `size` (at least 3) cluster-enabled `redis-server`s on free ports and forms a cluster of them. */
export async function startRedisCluster(size = 3): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'redstream-cluster-'));
  const servers: RedisServerHandle[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i++) {
      const nodeDir = join(dir, `node-${i}`);
      mkdirSync(nodeDir);
      servers.push(
        await startRedisServer({
          dir: nodeDir,
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', join(nodeDir, 'nodes.conf')],
        }),
      );
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await runRedisCli(['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(
      servers.map((server) => server.port),
      15_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port })), servers, stop };
}
