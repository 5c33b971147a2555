// Group consumption: a GroupConsumer against the loop a hand-written group member runs
// (XREADGROUP COUNT 1000, JSON.parse each payload, XACK the batch), and two member processes
// in one group against one.
const { performance } = require('node:perf_hooks');
const {
  createEngine,
  dropNamespace,
  fillStream,
  forkChild,
  newNamespace,
  rate,
  stopChild,
} = require('../bench-helpers');

const STREAM = 'bench';
const GROUP = 'bench';
const BATCH = 1_000;
/** CPU time a scaling member's handler spends per entry: the work that more processes share. */
const SCALE_WORK_US = 20;

/** Fills the stream (untimed), then times `consumeAll`. */
async function timedGroupConsume(ctx, n, consumeAll) {
  const namespace = newNamespace();
  const keys = new ctx.engine.RedstreamKeys(namespace);
  await fillStream(ctx.raw, keys.stream(STREAM), n);
  try {
    return await consumeAll(namespace, keys);
  } finally {
    await dropNamespace(ctx.raw, namespace);
  }
}

/** Resolves once a group consumer's `acked` events add up to `count` entries. */
function ackedCount(groupConsumer, count) {
  return new Promise((resolve) => {
    let seen = 0;
    const onAcked = (acked) => {
      seen += acked;
      if (seen >= count) {
        groupConsumer.off('acked', onAcked);
        resolve();
      }
    };
    groupConsumer.on('acked', onAcked);
  });
}

/** Time for a GroupConsumer (batch 1000, no-op handler) to handle and ack `n` waiting entries. */
function groupConsumeWithLibrary(ctx, n) {
  return timedGroupConsume(ctx, n, async (namespace) => {
    const redstream = await createEngine(ctx, namespace);
    const groupConsumer = redstream.groupConsumer({
      stream: STREAM,
      group: GROUP,
      batchSize: BATCH,
      handler: () => undefined,
    });
    try {
      const done = ackedCount(groupConsumer, n);
      // Creating the group is part of the run, as XGROUP CREATE is part of the baseline's.
      const startedAt = performance.now();
      groupConsumer.start();
      await done;
      return { rate: rate(n, startedAt, performance.now()) };
    } finally {
      await groupConsumer.stop();
      await redstream.close();
    }
  });
}

function groupConsumeWithIoredis(ctx, n) {
  return timedGroupConsume(ctx, n, async (_namespace, keys) => {
    const client = ctx.baselineClient;
    const streamKey = keys.stream(STREAM);
    let consumed = 0;
    let checksum = 0;
    const startedAt = performance.now();
    await client.xgroup('CREATE', streamKey, GROUP, '0', 'MKSTREAM');
    while (consumed < n) {
      const reply = await client.xreadgroup('GROUP', GROUP, 'member', 'COUNT', BATCH, 'STREAMS', streamKey, '>');
      const entries = reply[0][1];
      const ids = new Array(entries.length);
      for (let i = 0; i < entries.length; i++) {
        ids[i] = entries[i][0];
        checksum += JSON.parse(entries[i][1][1]).id;
      }
      await client.xack(streamKey, GROUP, ...ids);
      consumed += entries.length;
    }
    const result = { rate: rate(n, startedAt, performance.now()) };
    if (checksum < 0) throw new Error('unreachable: keeps the parsing from being optimised away');
    return result;
  });
}

const groupConsume = {
  name: 'group-consume',
  what: (n) =>
    `GroupConsumer (batch ${BATCH}, no-op handler) over ${n} entries vs ioredis XREADGROUP COUNT ${BATCH} + XACK loop`,
  count: (quick) => (quick ? 20_000 : 200_000),
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 0.9 } }],
  library: groupConsumeWithLibrary,
  baseline: groupConsumeWithIoredis,
};

/** A member process (bench/group-member.child.js on the built engine), ready once active in the group. */
function spawnMember(ctx, namespace) {
  const child = forkChild(ctx, namespace, 'group-member.child.js', {
    BENCH_STREAM: STREAM,
    BENCH_GROUP: GROUP,
    BENCH_BATCH: String(BATCH),
    BENCH_WORK_US: String(SCALE_WORK_US),
  });
  const member = { child, acked: 0, onAcked: () => undefined };
  const ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench group member exited with ${code} before it was ready`)));
    child.on('message', (message) => {
      if (message.ready) resolve(member);
      if (message.acked) {
        member.acked += message.acked;
        member.onAcked();
      }
    });
  });
  return ready;
}

/**
 * Time for `processes` member processes in one group to handle `n` entries that each cost
 * SCALE_WORK_US of CPU. The group is created at the end of the filled stream, the members
 * start and block on it; then it is moved to the start and one more entry wakes them, so
 * that process start-up is not timed.
 */
function groupScaleRun(ctx, n, processes) {
  return timedGroupConsume(ctx, n, async (namespace, keys) => {
    const streamKey = keys.stream(STREAM);
    await ctx.raw.xgroup('CREATE', streamKey, GROUP, '$');
    const members = await Promise.all(Array.from({ length: processes }, () => spawnMember(ctx, namespace)));
    try {
      const total = n + 1;
      const done = new Promise((resolve) => {
        const check = () => {
          if (members.reduce((sum, member) => sum + member.acked, 0) >= total) resolve();
        };
        for (const member of members) member.onAcked = check;
      });
      const startedAt = performance.now();
      await ctx.raw.xgroup('SETID', streamKey, GROUP, '0');
      await ctx.raw.xadd(streamKey, '*', 'payload', JSON.stringify({ id: n }));
      await done;
      return {
        rate: rate(total, startedAt, performance.now()),
        shares: members.map((member) => member.acked),
      };
    } finally {
      await Promise.all(members.map((member) => stopChild(member.child)));
    }
  });
}

const groupScale = {
  name: 'group-scale',
  what: (n) =>
    `two GroupConsumer processes in one group vs one (batch ${BATCH}, handler ${SCALE_WORK_US} µs CPU per entry), ${n} entries; ratio = speed-up`,
  count: (quick) => (quick ? 20_000 : 200_000),
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 1 } }],
  library: (ctx, n) => groupScaleRun(ctx, n, 2),
  baseline: (ctx, n) => groupScaleRun(ctx, n, 1),
};

module.exports = { groupConsume, groupScale, groupConsumeWithLibrary };
