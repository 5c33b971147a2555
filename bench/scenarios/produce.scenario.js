// Producing: one large array (the gem's bulk path), bulk() with its delay messages, and many
// concurrent single queue() calls, each against the same writes done with raw ioredis pipelines.
const { performance } = require('node:perf_hooks');
const { connectRaw, createEngine, dropNamespace, newNamespace, payloads, rate } = require('../bench-helpers');

const STREAM = 'bench';
const SLICE = 250;

/** What a careful hand-written producer does: XADDs in pipelines of 250, one slice after the other. */
async function pipelinedXadds(client, key, list) {
  for (let start = 0; start < list.length; start += SLICE) {
    const pipeline = client.pipeline();
    const end = Math.min(list.length, start + SLICE);
    for (let i = start; i < end; i++) pipeline.xadd(key, '*', 'payload', JSON.stringify(list[i]));
    await pipeline.exec();
  }
}

async function withEngine(ctx, run) {
  const namespace = newNamespace();
  const redstream = await createEngine(ctx, namespace);
  try {
    return await run(redstream, redstream.keys);
  } finally {
    await redstream.close();
    await dropNamespace(ctx.raw, namespace);
  }
}

async function withRaw(ctx, run) {
  const namespace = newNamespace();
  const client = await connectRaw(ctx.redisUrl);
  const keys = new ctx.engine.RedstreamKeys(namespace);
  try {
    return await run(client, keys);
  } finally {
    client.disconnect();
    await dropNamespace(ctx.raw, namespace);
  }
}

const bulkProduce = {
  name: 'bulk produce',
  what: (n) => `queue(stream, array) of ${n} {id} vs ioredis XADD pipelines of ${SLICE}`,
  count: (quick) => (quick ? 20_000 : 200_000),
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 0.9 } }],
  library: (ctx, n) =>
    withEngine(ctx, async (redstream) => {
      const producer = redstream.producer();
      const list = payloads(n);
      const startedAt = performance.now();
      await producer.queue(STREAM, list);
      return { rate: rate(n, startedAt, performance.now()) };
    }),
  baseline: (ctx, n) =>
    withRaw(ctx, async (client, keys) => {
      const list = payloads(n);
      const startedAt = performance.now();
      await pipelinedXadds(client, keys.stream(STREAM), list);
      return { rate: rate(n, startedAt, performance.now()) };
    }),
};

const bulkWithDelay = {
  name: 'bulk() with delay messages',
  what: (n) => `bulk(stream, array, write) of ${n}: delay + immediate XADDs, vs the same with ioredis pipelines`,
  count: (quick) => (quick ? 10_000 : 100_000),
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 0.9 } }],
  library: (ctx, n) =>
    withEngine(ctx, async (redstream) => {
      const producer = redstream.producer();
      const list = payloads(n);
      const startedAt = performance.now();
      await producer.bulk(STREAM, list, () => undefined);
      return { rate: rate(n, startedAt, performance.now()) };
    }),
  baseline: (ctx, n) =>
    withRaw(ctx, async (client, keys) => {
      const list = payloads(n);
      const startedAt = performance.now();
      await pipelinedXadds(client, keys.delayStream(STREAM), list);
      await pipelinedXadds(client, keys.stream(STREAM), list);
      return { rate: rate(n, startedAt, performance.now()) };
    }),
};

const concurrentWrites = {
  name: 'concurrent single writes',
  what: (n) => `${n} concurrent queue(stream, {id}) vs the same XADDs in one ioredis pipeline`,
  count: (quick) => (quick ? 5_000 : 20_000),
  // A run takes a fraction of a second, so a burst of load elsewhere sways it: more runs.
  roundsFactor: 3,
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 0.7 } }],
  library: (ctx, n) =>
    withEngine(ctx, async (redstream) => {
      const producer = redstream.producer();
      const list = payloads(n);
      const startedAt = performance.now();
      await Promise.all(list.map((payload) => producer.queue(STREAM, payload)));
      return { rate: rate(n, startedAt, performance.now()) };
    }),
  baseline: (ctx, n) =>
    withRaw(ctx, async (client, keys) => {
      const list = payloads(n);
      const key = keys.stream(STREAM);
      const startedAt = performance.now();
      const pipeline = client.pipeline();
      for (const payload of list) pipeline.xadd(key, '*', 'payload', JSON.stringify(payload));
      await pipeline.exec();
      return { rate: rate(n, startedAt, performance.now()) };
    }),
};

module.exports = { bulkProduce, bulkWithDelay, concurrentWrites, withEngine, withRaw };
