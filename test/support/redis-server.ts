import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A `redis-server` process owned by a test: started on a free port, stopped by the test. */
export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly process: ChildProcess;
  /** SIGTERM and wait for the exit. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /**
   * SIGTERM, then after `downMs` (default 0) a new server on the same port and data directory.
   * Call it on a running server: `stop()` removes a data directory the handle created.
   */
  restart(downMs?: number): Promise<RedisServerHandle>;
}

export interface RedisServerOptions {
  port?: number;
  dir?: string;
  /** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
  args?: string[];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (!path) {
    throw new Error('redis-server is not on PATH: install it (Debian: apt-get install redis-server) or set REDIS_URL');
  }
  return path;
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pingOnce(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'redstream-redis-'));
  return launch({ ...options, dir }, options.dir === undefined);
}

/** `ownsDir`: remove `dir` when this server exits, unless it exits to be restarted. */
async function launch(options: RedisServerOptions & { dir: string }, ownsDir: boolean): Promise<RedisServerHandle> {
  const port = options.port ?? (await freePort());
  const dir = options.dir;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.args ?? []),
  ];
  const child = spawn(redisServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keepTail = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-4_000));
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let restarting = false;
  if (ownsDir) child.once('exit', () => restarting || rmSync(dir, { recursive: true, force: true }));
  await Promise.race([
    waitForPing(port, 10_000),
    exited.then(() => {
      throw new Error(`redis-server on port ${port} exited at start: ${output.trim() || `code ${child.exitCode}`}`);
    }),
  ]);

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const handle: RedisServerHandle = {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    process: child,
    stop: () => terminate('SIGTERM'),
    kill: () => terminate('SIGKILL'),
    restart: async (downMs = 0) => {
      // The data directory outlives this process and belongs to the next one.
      restarting = true;
      await terminate('SIGTERM');
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      return launch({ ...options, port, dir }, ownsDir);
    },
  };
  return handle;
}
