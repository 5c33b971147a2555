// Takeover after kill -9 of the active consumer's process: how long until a standby (in this
// process) is active. Library: the standby learns of the lock's expiry from Redis's expired-key
// events (`lockExpiryEvents: 'configure'`). Baseline: the same library polling
// (`lockExpiryEvents: false`), with a long standbyPollMs as a cautious deployment sets it. Both
// take turns within one run. Opt-in (`--only takeover`): it mostly waits, and changes the
// server's notify-keyspace-events for its duration (restored at the end).
const { performance } = require('node:perf_hooks');
const { setTimeout: sleep } = require('node:timers/promises');
const { dropNamespace, forkChild, newNamespace } = require('../bench-helpers');
const { median } = require('../bench-stats');

const STREAM = 'bench';
const CONSUMER = 'takeover';
const TIMING = { lockTtlMs: 2_000, lockRefreshMs: 500, standbyPollMs: 5_000, blockMs: 1_000 };

/** The owner process (bench/takeover-owner.child.js on the built engine), resolved once active. */
function spawnOwner(ctx, namespace) {
  const child = forkChild(ctx, namespace, 'takeover-owner.child.js', {
    BENCH_STREAM: STREAM,
    BENCH_CONSUMER: CONSUMER,
    BENCH_TIMING: JSON.stringify(TIMING),
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench takeover owner exited with ${code} before it was active`)));
    child.on('message', (message) => message.active && resolve(child));
  });
}

/** One kill -9 and takeover; `lockExpiryEvents` of the standby's engine. */
async function takeoverOnce(ctx, lockExpiryEvents) {
  const namespace = newNamespace();
  const owner = await spawnOwner(ctx, namespace);
  const redstream = new ctx.engine.Redstream({
    redis: ctx.redisUrl,
    namespace,
    logger: ctx.engine.silentLogger,
    lockExpiryEvents,
  });
  const standby = redstream.consumer({ stream: STREAM, name: CONSUMER, ...TIMING, handler: () => undefined });
  const active = new Promise((resolve) => standby.once('active', () => resolve(performance.now())));
  try {
    standby.start();
    // Wait until the standby waits (and, with events, listens); then a random point in the
    // owner's refresh cycle and the standby's poll cycle, as a crash would pick.
    const deadline = performance.now() + 10_000;
    while (lockExpiryEvents && !redstream.lockExpiry.listening && performance.now() < deadline) await sleep(20);
    await sleep(300 + Math.random() * TIMING.standbyPollMs);
    const lockKey = new ctx.engine.RedstreamKeys(namespace).lock(`consumer:${STREAM}:${CONSUMER}`);
    const exited = new Promise((resolve) => owner.once('exit', resolve));
    const pttl = await ctx.raw.pttl(lockKey);
    const killedAt = performance.now();
    owner.kill('SIGKILL');
    await exited;
    const activeAt = await active;
    return { takeoverMs: activeAt - killedAt, afterExpiryMs: activeAt - (killedAt + pttl) };
  } finally {
    owner.kill('SIGKILL');
    await standby.stop();
    await redstream.close();
    await dropNamespace(ctx.raw, namespace);
  }
}

const takeover = {
  name: 'takeover',
  optIn: true,
  what: (n) =>
    `${n} kill -9 of the active consumer's process per run, lockTtlMs ${TIMING.lockTtlMs}, lockRefreshMs ` +
    `${TIMING.lockRefreshMs}, standbyPollMs ${TIMING.standbyPollMs}: time to a standby active, ` +
    `with expired-key events vs polling; "after expiry" counts from the lock key's expiry`,
  count: (quick) => (quick ? 1 : 5),
  rounds: 1,
  metrics: [
    { key: 'takeoverMs', name: 'takeover after kill -9', unit: 'ms', target: { withinMs: 0 } },
    { key: 'afterExpiryMs', name: 'takeover after the lock expired', unit: 'ms', target: { withinMs: 0 } },
  ],
  paired: async (ctx, n) => {
    const [, before] = await ctx.raw.config('GET', 'notify-keyspace-events');
    const runs = { library: [], baseline: [] };
    try {
      for (let i = 0; i < n; i++) {
        runs.library.push(await takeoverOnce(ctx, 'configure'));
        runs.baseline.push(await takeoverOnce(ctx, false));
      }
    } finally {
      await ctx.raw.config('SET', 'notify-keyspace-events', before);
    }
    const summary = (figures) => ({
      takeoverMs: median(figures.map((f) => f.takeoverMs)),
      afterExpiryMs: median(figures.map((f) => f.afterExpiryMs)),
      all: figures.map((f) => Math.round(f.takeoverMs)),
      allAfterExpiry: figures.map((f) => Math.round(f.afterExpiryMs)),
    });
    return { library: summary(runs.library), baseline: summary(runs.baseline) };
  },
};

module.exports = { takeover };
