// Consuming a filled stream with a no-op handler, against the loop a hand-written consumer
// runs: XREAD COUNT 1000 after the offset, JSON.parse each payload, SET the offset.
const { performance } = require('node:perf_hooks');
const { committedCount, createEngine, dropNamespace, fillStream, newNamespace, rate } = require('../bench-helpers');

const STREAM = 'bench';
const BATCH = 1_000;

/** Fills the stream (untimed), then times `consumeAll`. */
async function timedConsume(ctx, n, consumeAll) {
  const namespace = newNamespace();
  const keys = new ctx.engine.RedstreamKeys(namespace);
  await fillStream(ctx.raw, keys.stream(STREAM), n);
  try {
    return await consumeAll(namespace, keys);
  } finally {
    await dropNamespace(ctx.raw, namespace);
  }
}

/**
 * Time for a Consumer (batch 1000, no-op handler) to handle and commit `n` waiting messages;
 * `engineOptions` go to the Redstream (`blockingReads`).
 */
function consumeWithLibrary(ctx, n, engineOptions) {
  return timedConsume(ctx, n, async (namespace) => {
    const redstream = await createEngine(ctx, namespace, engineOptions);
    const consumer = redstream.consumer({ stream: STREAM, name: 'bench', batchSize: BATCH, handler: () => undefined });
    try {
      const done = committedCount(consumer, n);
      const startedAt = performance.now();
      consumer.start();
      await done;
      return { rate: rate(n, startedAt, performance.now()) };
    } finally {
      await consumer.stop();
      await redstream.close();
    }
  });
}

function consumeWithIoredis(ctx, n) {
  return timedConsume(ctx, n, async (_namespace, keys) => {
    const client = ctx.baselineClient;
    const streamKey = keys.stream(STREAM);
    const offsetKey = keys.offset(STREAM, 'bench');
    let offset = '0-0';
    let consumed = 0;
    let checksum = 0;
    const startedAt = performance.now();
    while (consumed < n) {
      const reply = await client.xread('COUNT', BATCH, 'STREAMS', streamKey, offset);
      const entries = reply[0][1];
      for (const [, fields] of entries) checksum += JSON.parse(fields[1]).id;
      offset = entries[entries.length - 1][0];
      await client.set(offsetKey, offset);
      consumed += entries.length;
    }
    const result = { rate: rate(n, startedAt, performance.now()) };
    if (checksum < 0) throw new Error('unreachable: keeps the parsing from being optimised away');
    return result;
  });
}

const consume = {
  name: 'consume',
  what: (n) => `Consumer (batch ${BATCH}, no-op handler) over ${n} messages vs ioredis XREAD COUNT ${BATCH} + SET loop`,
  count: (quick) => (quick ? 20_000 : 200_000),
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 0.8 } }],
  library: consumeWithLibrary,
  baseline: consumeWithIoredis,
};

// The same Consumer reading through the Redstream's shared blocking connection (the default)
// and through a connection of its own: sharing must not cost throughput on a saturated stream.
const sharedReads = {
  name: 'shared reads',
  what: (n) => `Consumer over ${n} messages, blockingReads 'shared' (library) vs 'per-worker' (baseline)`,
  count: (quick) => (quick ? 20_000 : 200_000),
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 0.95 } }],
  library: (ctx, n) => consumeWithLibrary(ctx, n, { blockingReads: 'shared' }),
  baseline: (ctx, n) => consumeWithLibrary(ctx, n, { blockingReads: 'per-worker' }),
};

module.exports = { consume, consumeWithLibrary, sharedReads };
