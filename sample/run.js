// `npm run sample`: picks a Redis, compiles the sample with tsc and runs it until Ctrl-C.
//
// Redis: REDIS_URL when set, else 127.0.0.1:6379 when something answers PING there, else a
// private redis-server from PATH on a free port, stopped when the sample exits.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');

const root = path.join(__dirname, '..');
const outDir = path.join(__dirname, 'dist');

function log(message) {
  console.log(`[sample] ${message}`);
}

function compile() {
  log('compiling the sample and the library with tsc (sample/tsconfig.json -> sample/dist)');
  fs.rmSync(outDir, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'tsconfig.json')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('tsc failed');
  // tsc copies no assets; the engine reads its Lua scripts from beside its compiled files.
  const scripts = path.join(root, 'lib', 'engine', 'scripts');
  const target = path.join(outDir, 'lib', 'engine', 'scripts');
  for (const file of fs.readdirSync(scripts).filter((name) => name.endsWith('.lua'))) {
    fs.copyFileSync(path.join(scripts, file), path.join(target, file));
  }
}

/** Resolves with Redis's first reply line to PING at host:port, or null when nothing answers. */
function ping(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (reply) => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(1_000, () => done(null));
    socket.once('error', () => done(null));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().split('\r\n')[0]));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startPrivateRedis() {
  const binary = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!binary) {
    throw new Error(
      'No Redis: REDIS_URL is not set, nothing answers on 127.0.0.1:6379 and redis-server is not on PATH. ' +
        'Install Redis (Debian: apt-get install redis-server) or set REDIS_URL=redis://host:port.',
    );
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redstream-sample-redis-'));
  // Its own process group: Ctrl-C must not stop Redis before the app has shut down cleanly.
  const server = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore', detached: true },
  );
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let waited = 0; (await ping('127.0.0.1', port)) !== '+PONG'; waited += 50) {
    if (waited > 10_000 || server.exitCode !== null) {
      await stop();
      throw new Error(`${binary} did not start on port ${port}`);
    }
    await sleep(50);
  }
  log(`Redis: started a private ${binary} on 127.0.0.1:${port} (pid ${server.pid}); it stops when the sample exits`);
  return { url: `redis://127.0.0.1:${port}`, stop };
}

async function chooseRedis() {
  if (process.env.REDIS_URL) {
    log(`Redis: REDIS_URL=${process.env.REDIS_URL.replace(/\/\/([^@/]*)@/, '//***@')}`);
    return { url: process.env.REDIS_URL, stop: async () => undefined };
  }
  const reply = await ping('127.0.0.1', 6379);
  if (reply === '+PONG') {
    log('Redis: found one on 127.0.0.1:6379 (set REDIS_URL to use another)');
    return { url: 'redis://127.0.0.1:6379', stop: async () => undefined };
  }
  if (reply !== null) log(`Redis on 127.0.0.1:6379 answered "${reply}" (set REDIS_URL with credentials to use it)`);
  return startPrivateRedis();
}

async function main() {
  compile();
  const redis = await chooseRedis();
  process.env.REDIS_URL = redis.url;
  process.env.SAMPLE_DATA_DIR ??= path.join(__dirname, 'data');

  let app;
  let stopping;
  const shutdown = (reason, code) => {
    stopping ??= (async () => {
      log(`${reason}: shutting down`);
      try {
        await app?.close();
      } finally {
        await redis.stop();
      }
      process.exit(code);
    })();
  };
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));

  try {
    const { bootstrap } = require(path.join(outDir, 'sample', 'src', 'main.js'));
    app = await bootstrap();
  } catch (error) {
    console.error(`[sample] ${error.message}`);
    shutdown('the app failed to start', 1);
  }
}

main().catch((error) => {
  console.error(`[sample] ${error.message}`);
  process.exit(1);
});
