// Whether a Consumer's memory stays flat over a long stream: RSS at the end against RSS after
// a warm-up of 10%, both right after a full garbage collection (with --expose-gc, as
// `npm run bench` runs). The highest RSS on the way is logged too: it includes V8 growing its
// young generation under a high allocation rate, which is given back later and is no leak.
// No baseline: the figure is absolute.
const { createEngine, dropNamespace, fillStream, newNamespace } = require('../bench-helpers');

const STREAM = 'bench';
const MB = 1024 * 1024;
const CHECKPOINTS = 10;

function settledMemory() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
  const usage = process.memoryUsage();
  return { rss: usage.rss / MB, heap: usage.heapUsed / MB };
}

const memory = {
  name: 'consumer memory',
  what: (n) => `consumer RSS growth over ${n} messages: at the end vs after the first 10%, both after a full GC`,
  count: (quick) => (quick ? 50_000 : 1_000_000),
  rounds: 1,
  metrics: [{ key: 'growth', name: 'consumer RSS growth', unit: 'MB', target: { belowMb: 20 } }],
  library: async (ctx, n) => {
    const namespace = newNamespace();
    const keys = new ctx.engine.RedstreamKeys(namespace);
    await fillStream(ctx.raw, keys.stream(STREAM), n);
    const redstream = await createEngine(ctx, namespace);
    const consumer = redstream.consumer({ stream: STREAM, name: 'bench', batchSize: 1_000, handler: () => undefined });
    const checkpoints = [];
    let consumed = 0;
    let nextCheckpoint = Math.ceil(n / CHECKPOINTS);
    let peakRss = 0;
    try {
      await new Promise((resolve) => {
        consumer.on('committed', (_offset, count) => {
          consumed += count;
          peakRss = Math.max(peakRss, process.memoryUsage.rss() / MB);
          if (consumed < nextCheckpoint && consumed < n) return;
          checkpoints.push(settledMemory());
          nextCheckpoint += Math.ceil(n / CHECKPOINTS);
          if (consumed >= n) resolve();
        });
        consumer.start();
      });
      const [first, last] = [checkpoints[0], checkpoints[checkpoints.length - 1]];
      return {
        growth: Math.max(0, last.rss - first.rss),
        rssMb: checkpoints.map((checkpoint) => Math.round(checkpoint.rss)),
        heapMb: checkpoints.map((checkpoint) => Math.round(checkpoint.heap * 10) / 10),
        peakGrowthMb: peakRss - first.rss,
      };
    } finally {
      await consumer.stop();
      await redstream.close();
      await dropNamespace(ctx.raw, namespace);
    }
  },
};

module.exports = { memory };
