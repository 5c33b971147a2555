// What users would otherwise pick: a BullMQ worker draining the same number of `{id}` jobs
// with a no-op processor, on the same Redis, against a Consumer draining a stream.
const { URL } = require('node:url');
const { performance } = require('node:perf_hooks');
const { dropNamespace, newNamespace, rate } = require('../bench-helpers');
const { consumeWithLibrary } = require('./consume.scenario');

// A no-op processor on 2 cores: we tried concurrency 1 to 1000; from about 50 on BullMQ
// drains equally fast within the noise (7k to 25k jobs/s here), below that it is slower.
const CONCURRENCY = 100;

function bullConnection(redisUrl) {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password || undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
  };
}

async function drainWithBullmq(ctx, n) {
  const { Queue, Worker } = require('bullmq');
  const connection = bullConnection(ctx.redisUrl);
  const prefix = newNamespace();
  const queue = new Queue('bench', { connection, prefix });
  for (let start = 0; start < n; start += 1_000) {
    const jobs = [];
    for (let i = start; i < Math.min(n, start + 1_000); i++) {
      jobs.push({ name: 'message', data: { id: i }, opts: { removeOnComplete: true, removeOnFail: true } });
    }
    await queue.addBulk(jobs);
  }
  const worker = new Worker('bench', async () => undefined, {
    connection,
    prefix,
    concurrency: CONCURRENCY,
    autorun: false,
  });
  try {
    await worker.waitUntilReady();
    let completed = 0;
    const done = new Promise((resolve) =>
      worker.on('completed', () => {
        if (++completed === n) resolve();
      }),
    );
    const startedAt = performance.now();
    void worker.run();
    await done;
    return { rate: rate(n, startedAt, performance.now()) };
  } finally {
    await worker.close();
    await queue.close();
    await dropNamespace(ctx.raw, prefix);
  }
}

const bullmq = {
  name: 'Consumer vs BullMQ',
  what: (n) => `${n} messages: Consumer (batch 1000) vs BullMQ Worker (concurrency ${CONCURRENCY}), no-op handlers`,
  count: (quick) => (quick ? 2_000 : 50_000),
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 10 } }],
  library: consumeWithLibrary,
  baseline: drainWithBullmq,
};

module.exports = { bullmq };
