// End-to-end latency at a low rate: one message at a time, sent once the reader is blocked
// again. Library: queue() until the Consumer's handler runs. Baseline: XADD until a blocked
// XREAD on a second connection returns it. Library and baseline messages take turns within
// one run, so that a burst of load on the shared machine hits both alike.
const { performance } = require('node:perf_hooks');
const { setTimeout: sleep } = require('node:timers/promises');
const { connectRaw, createEngine, dropNamespace, newNamespace } = require('../bench-helpers');
const { percentile } = require('../bench-stats');

const STREAM = 'bench';
const GAP_MS = 3;

/** Sends through the library, one message per call; resolves with the latency in ms. */
async function libraryProbe(ctx, namespace) {
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
  return {
    send: async (id) => {
      const arrived = new Promise((resolve) => (received = resolve));
      await sleep(GAP_MS);
      const sentAt = performance.now();
      await producer.queue(STREAM, { id });
      return (await arrived) - sentAt;
    },
    close: async () => {
      await consumer.stop();
      await redstream.close();
    },
  };
}

/** The same with two plain ioredis connections: XADD on one, XREAD BLOCK on the other. */
async function baselineProbe(ctx, namespace) {
  const key = new ctx.engine.RedstreamKeys(namespace).stream(STREAM);
  const writer = await connectRaw(ctx.redisUrl);
  const reader = await connectRaw(ctx.redisUrl);
  let offset = '0-0';
  return {
    send: async (id) => {
      const arrived = reader.xread('COUNT', 1_000, 'BLOCK', 10_000, 'STREAMS', key, offset).then((reply) => {
        const at = performance.now();
        const entries = reply[0][1];
        JSON.parse(entries[0][1][1]);
        offset = entries[entries.length - 1][0];
        return at;
      });
      await sleep(GAP_MS);
      const sentAt = performance.now();
      await writer.xadd(key, '*', 'payload', JSON.stringify({ id }));
      return (await arrived) - sentAt;
    },
    close: async () => {
      writer.disconnect();
      reader.disconnect();
    },
  };
}

const latency = {
  name: 'end-to-end latency',
  what: (n) =>
    `${n} messages each, one at a time, ${GAP_MS} ms apart, taking turns: queue() to handler vs XADD to blocked XREAD`,
  count: (quick) => (quick ? 50 : 500),
  metrics: [
    { key: 'p50', name: 'end-to-end latency p50', unit: 'ms', target: { withinMs: 1 } },
    { key: 'p99', name: 'end-to-end latency p99', unit: 'ms', target: { withinMs: 1 } },
  ],
  paired: async (ctx, n) => {
    const namespaces = [newNamespace(), newNamespace()];
    const library = await libraryProbe(ctx, namespaces[0]);
    const baseline = await baselineProbe(ctx, namespaces[1]);
    const latencies = { library: [], baseline: [] };
    try {
      for (let i = 0; i < n; i++) {
        latencies.library.push(await library.send(i));
        latencies.baseline.push(await baseline.send(i));
      }
    } finally {
      await library.close();
      await baseline.close();
      for (const namespace of namespaces) await dropNamespace(ctx.raw, namespace);
    }
    const summary = (values) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
    return { library: summary(latencies.library), baseline: summary(latencies.baseline) };
  },
};

module.exports = { latency };
