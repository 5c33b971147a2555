// Shard balancing: the 8 shards of one sharded stream consumed by two processes against one.
// With balancing (the default) the second process takes half the shards, so CPU-bound
// handlers run on two cores; without it the first process would own every shard.
const { performance } = require('node:perf_hooks');
const { dropNamespace, forkChild, newNamespace, rate, stopChild } = require('../bench-helpers');

const STREAM = 'bench';
const SHARDS = 8;
const BATCH = 1_000;
/** CPU time a handler spends per entry: the work that more processes share. */
const WORK_US = 100;

/** A process with a consumer per shard, ready once started. */
function spawnShardMember(ctx, namespace) {
  const child = forkChild(ctx, namespace, 'shard-member.child.js', {
    BENCH_STREAM: STREAM,
    BENCH_SHARDS: String(SHARDS),
    BENCH_BATCH: String(BATCH),
    BENCH_WORK_US: String(WORK_US),
  });
  const member = { child, owned: 0, committed: 0, onChange: () => undefined };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench shard member exited with ${code} before it was ready`)));
    child.on('message', (message) => {
      if (message.ready) resolve(member);
      if (message.owned !== undefined) member.owned = message.owned;
      if (message.committed) member.committed += message.committed;
      member.onChange();
    });
  });
}

/** Resolves once `check()` holds, checked on every message of a member. */
function until(members, check) {
  return new Promise((resolve) => {
    const onChange = () => {
      if (check()) resolve();
    };
    for (const member of members) member.onChange = onChange;
    onChange();
  });
}

/**
 * Time for `processes` processes, each with a consumer per shard and balanced, to handle `n`
 * entries spread over the shards, each costing WORK_US of CPU. The processes start on empty
 * streams and are timed from the moment the shards are balanced (each owns its share) and
 * the entries are written (raw pipelines, part of the timing on both sides).
 */
async function shardScaleRun(ctx, n, processes) {
  const namespace = newNamespace();
  const keys = new ctx.engine.RedstreamKeys(namespace);
  const shards = ctx.engine.redstreamShards(STREAM, SHARDS);
  const members = await Promise.all(Array.from({ length: processes }, () => spawnShardMember(ctx, namespace)));
  try {
    const share = Math.ceil(SHARDS / processes);
    await until(
      members,
      () =>
        members.every((member) => member.owned <= share) &&
        members.reduce((sum, member) => sum + member.owned, 0) === SHARDS,
    );
    const done = until(members, () => members.reduce((sum, member) => sum + member.committed, 0) >= n);
    const startedAt = performance.now();
    for (let start = 0; start < n; start += 1_000) {
      const pipeline = ctx.raw.pipeline();
      for (let i = start; i < Math.min(n, start + 1_000); i++) {
        pipeline.xadd(keys.stream(shards.streamOf(i)), '*', 'payload', JSON.stringify({ id: i }));
      }
      await pipeline.exec();
    }
    await done;
    return {
      rate: rate(n, startedAt, performance.now()),
      shares: members.map((member) => member.committed),
    };
  } finally {
    await Promise.all(members.map((member) => stopChild(member.child)));
    await dropNamespace(ctx.raw, namespace);
  }
}

const shardScale = {
  name: 'shard-scale',
  what: (n) =>
    `${SHARDS} shards consumed by two balanced processes vs one (batch ${BATCH}, handler ${WORK_US} µs CPU per entry), ${n} entries; ratio = speed-up`,
  count: (quick) => (quick ? 40_000 : 200_000),
  metrics: [{ key: 'rate', unit: 'msg/s', target: { atLeast: 1 } }],
  // Opt-in: runs only with `--only shard-scale`.
  optIn: true,
  library: (ctx, n) => shardScaleRun(ctx, n, 2),
  baseline: (ctx, n) => shardScaleRun(ctx, n, 1),
};

module.exports = { shardScale };
