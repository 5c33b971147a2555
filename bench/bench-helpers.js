// Shared plumbing of the benchmark scenarios: fresh engines and key spaces per run, raw
// stream filling, and a wait for a worker's committed count.
const path = require('node:path');
const { fork } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const Redis = require('ioredis').default;

/** One stream per run under a namespace of its own, so runs never see each other's keys. */
function newNamespace() {
  return `bench-${randomBytes(4).toString('hex')}`;
}

/** A plain ioredis client as an application would create it: the baselines' tool. */
async function connectRaw(url) {
  const client = new Redis(url, { maxRetriesPerRequest: 3 });
  await client.ping();
  return client;
}

/** A connected engine (`options` added to its own): connection set-up is not part of any timing. */
async function createEngine(ctx, namespace, options = {}) {
  const redstream = new ctx.engine.Redstream({
    redis: ctx.redisUrl,
    namespace,
    logger: ctx.engine.silentLogger,
    ...options,
  });
  await redstream.client.ping();
  // Producers write on a connection of their own (in builds that have one).
  await redstream.connections.producerClient?.().ping();
  return redstream;
}

/** Writes `count` entries `{ payload: {"id":i} }` with raw pipelines; returns the last id. */
async function fillStream(client, key, count, sliceSize = 1_000) {
  let lastId;
  for (let start = 0; start < count; start += sliceSize) {
    const pipeline = client.pipeline();
    for (let i = start; i < Math.min(count, start + sliceSize); i++) {
      pipeline.xadd(key, '*', 'payload', JSON.stringify({ id: i }));
    }
    const replies = await pipeline.exec();
    lastId = replies[replies.length - 1][1];
  }
  return lastId;
}

/** Deletes every key of a namespace (scenarios clean up after each run). */
async function dropNamespace(client, namespace) {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1_000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Resolves once a worker's `committed` events add up to `count` messages. */
function committedCount(worker, count) {
  return new Promise((resolve) => {
    let seen = 0;
    const onCommitted = (_offset, committed) => {
      seen += committed;
      if (seen >= count) {
        worker.off('committed', onCommitted);
        resolve();
      }
    };
    worker.on('committed', onCommitted);
  });
}

/**
 * Forks `bench/<file>` (a *.child.js, see bench/bench-child.js) on this run's Redis and
 * namespace, with the BENCH_* settings in `env` and an IPC channel.
 */
function forkChild(ctx, namespace, file, env) {
  return fork(path.join(__dirname, file), [], {
    env: { ...process.env, BENCH_REDIS_URL: ctx.redisUrl, BENCH_NAMESPACE: namespace, ...env },
    // The specs run the TypeScript engine: REDSTREAM_BENCH_ENGINE names it and this loader.
    execArgv: process.env.REDSTREAM_BENCH_MEMBER_REQUIRE
      ? ['--require', process.env.REDSTREAM_BENCH_MEMBER_REQUIRE]
      : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Sends a forked child { stop: true } and resolves once it has exited. */
async function stopChild(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ stop: true });
  await exited;
}

function payloads(count) {
  const list = new Array(count);
  for (let i = 0; i < count; i++) list[i] = { id: i };
  return list;
}

function rate(count, startedAt, endedAt) {
  return count / ((endedAt - startedAt) / 1_000);
}

module.exports = {
  newNamespace,
  connectRaw,
  createEngine,
  fillStream,
  dropNamespace,
  committedCount,
  forkChild,
  stopChild,
  payloads,
  rate,
};
