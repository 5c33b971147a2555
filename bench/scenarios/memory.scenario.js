// Whether a Consumer's memory stays flat over a long stream: RSS after a warm-up against the
// highest RSS seen until the last message is committed. No baseline: the figure is absolute.
const { createEngine, dropNamespace, fillStream, newNamespace } = require('../bench-helpers');

const STREAM = 'bench';
const MB = 1024 * 1024;
const collectGarbage = () => (typeof globalThis.gc === 'function' ? globalThis.gc() : undefined);

const memory = {
  name: 'consumer memory',
  what: (n) => `consumer RSS growth over ${n} messages (after a warm-up of 10%)`,
  count: (quick) => (quick ? 50_000 : 1_000_000),
  rounds: 1,
  metrics: [{ key: 'growth', name: 'consumer RSS growth', unit: 'MB', target: { belowMb: 20 } }],
  library: async (ctx, n) => {
    const namespace = newNamespace();
    const keys = new ctx.engine.RedstreamKeys(namespace);
    await fillStream(ctx.raw, keys.stream(STREAM), n);
    const redstream = await createEngine(ctx, namespace);
    const consumer = redstream.consumer({ stream: STREAM, name: 'bench', batchSize: 1_000, handler: () => undefined });
    const warmUp = Math.ceil(n / 10);
    let consumed = 0;
    let baselineRss;
    let peakRss = 0;
    try {
      await new Promise((resolve) => {
        consumer.on('committed', (_offset, count) => {
          consumed += count;
          if (baselineRss === undefined) {
            if (consumed < warmUp) return;
            collectGarbage();
            baselineRss = process.memoryUsage.rss();
          }
          peakRss = Math.max(peakRss, process.memoryUsage.rss());
          if (consumed >= n) resolve();
        });
        collectGarbage();
        consumer.start();
      });
      collectGarbage();
      const heapAfterMb = process.memoryUsage().heapUsed / MB;
      // The heap after a full collection tells a leak from the allocator's breathing in RSS.
      return { growth: Math.max(0, peakRss - baselineRss) / MB, peakRssMb: peakRss / MB, heapAfterMb };
    } finally {
      await consumer.stop();
      await redstream.close();
      await dropNamespace(ctx.raw, namespace);
    }
  },
};

module.exports = { memory };
