// End-to-end latency at a low rate: one message at a time, sent once the reader is blocked
// again. Library: queue() until the Consumer's handler runs. Baseline: XADD until a blocked
// XREAD on a second connection returns it.
const { performance } = require('node:perf_hooks');
const { setTimeout: sleep } = require('node:timers/promises');
const { connectRaw, createEngine, dropNamespace, newNamespace } = require('../bench-helpers');
const { percentile } = require('../bench-stats');

const STREAM = 'bench';
const GAP_MS = 3;

function summary(latencies) {
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const latency = {
  name: 'end-to-end latency',
  what: (n) => `${n} messages one at a time, ${GAP_MS} ms apart: queue() to handler vs XADD to blocked XREAD`,
  count: (quick) => (quick ? 50 : 500),
  metrics: [
    { key: 'p50', name: 'end-to-end latency p50', unit: 'ms', target: { withinMs: 1 } },
    { key: 'p99', name: 'end-to-end latency p99', unit: 'ms', target: { withinMs: 1 } },
  ],
  library: async (ctx, n) => {
    const namespace = newNamespace();
    const redstream = await createEngine(ctx, namespace);
    const producer = redstream.producer();
    let received;
    const consumer = redstream.consumer({
      stream: STREAM,
      name: 'bench',
      blockMs: 10_000,
      handler: () => received(performance.now()),
    });
    const active = new Promise((resolve) => consumer.once('active', resolve));
    consumer.start();
    await active;
    const latencies = [];
    try {
      for (let i = 0; i < n; i++) {
        await sleep(GAP_MS);
        const arrived = new Promise((resolve) => (received = resolve));
        const sentAt = performance.now();
        await producer.queue(STREAM, { id: i });
        latencies.push((await arrived) - sentAt);
      }
      return summary(latencies);
    } finally {
      await consumer.stop();
      await redstream.close();
      await dropNamespace(ctx.raw, namespace);
    }
  },
  baseline: async (ctx, n) => {
    const namespace = newNamespace();
    const key = new ctx.engine.RedstreamKeys(namespace).stream(STREAM);
    const writer = await connectRaw(ctx.redisUrl);
    const reader = await connectRaw(ctx.redisUrl);
    let offset = '0-0';
    const latencies = [];
    try {
      for (let i = 0; i < n; i++) {
        const read = reader.xread('COUNT', 1_000, 'BLOCK', 10_000, 'STREAMS', key, offset).then((reply) => {
          const at = performance.now();
          const entries = reply[0][1];
          JSON.parse(entries[0][1][1]);
          offset = entries[entries.length - 1][0];
          return at;
        });
        await sleep(GAP_MS);
        const sentAt = performance.now();
        await writer.xadd(key, '*', 'payload', JSON.stringify({ id: i }));
        latencies.push((await read) - sentAt);
      }
      return summary(latencies);
    } finally {
      writer.disconnect();
      reader.disconnect();
      await dropNamespace(ctx.raw, namespace);
    }
  },
};

module.exports = { latency };
