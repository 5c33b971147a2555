// Re-queueing due delay messages, against the loop a hand-written delayer runs: XRANGE after
// the offset, then XADD to the main stream, XDEL from the delay stream and SET the offset in
// one pipeline.
const { performance } = require('node:perf_hooks');
const { setTimeout: sleep } = require('node:timers/promises');
const { committedCount, createEngine, dropNamespace, fillStream, newNamespace, rate } = require('../bench-helpers');

const STREAM = 'bench';
const BATCH = 1_000;

async function timedDelayer(ctx, n, deliverAll) {
  const namespace = newNamespace();
  const keys = new ctx.engine.RedstreamKeys(namespace);
  await fillStream(ctx.raw, keys.delayStream(STREAM), n);
  // Delay 1 ms: everything written above is due by the time the run starts.
  await sleep(5);
  try {
    return await deliverAll(namespace, keys);
  } finally {
    await dropNamespace(ctx.raw, namespace);
  }
}

const delayer = {
  name: 'delayer',
  what: (n) => `Delayer re-queueing ${n} due messages vs ioredis XRANGE + pipelined XADD/XDEL/SET loop`,
  count: (quick) => (quick ? 10_000 : 100_000),
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 0.8 } }],
  library: (ctx, n) =>
    timedDelayer(ctx, n, async (namespace) => {
      const redstream = await createEngine(ctx, namespace);
      const worker = redstream.delayer({ stream: STREAM, delay: 1, batchSize: BATCH });
      try {
        const done = committedCount(worker, n);
        const startedAt = performance.now();
        worker.start();
        await done;
        return { rate: rate(n, startedAt, performance.now()) };
      } finally {
        await worker.stop();
        await redstream.close();
      }
    }),
  baseline: (ctx, n) =>
    timedDelayer(ctx, n, async (_namespace, keys) => {
      const client = ctx.baselineClient;
      const delayKey = keys.delayStream(STREAM);
      const streamKey = keys.stream(STREAM);
      const offsetKey = keys.offset(`${STREAM}.delay`, 'delayer');
      let offset = '0-0';
      let delivered = 0;
      const startedAt = performance.now();
      while (delivered < n) {
        const entries = await client.xrange(delayKey, `(${offset}`, '+', 'COUNT', BATCH);
        const pipeline = client.pipeline();
        const ids = new Array(entries.length);
        for (let i = 0; i < entries.length; i++) {
          const [id, fields] = entries[i];
          pipeline.xadd(streamKey, '*', 'payload', fields[1]);
          ids[i] = id;
        }
        pipeline.xdel(delayKey, ...ids);
        offset = ids[ids.length - 1];
        pipeline.set(offsetKey, offset);
        await pipeline.exec();
        delivered += entries.length;
      }
      return { rate: rate(n, startedAt, performance.now()) };
    }),
};

module.exports = { delayer };
