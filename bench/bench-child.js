// Shared start-up of the benchmark's child processes (bench/*.child.js): the engine they run
// (the built one, or the one REDSTREAM_BENCH_ENGINE names for the specs), its Redstream from
// the BENCH_* environment the parent sets, the CPU-spending handler, and the stop message.
const path = require('node:path');

const engine = require(process.env.REDSTREAM_BENCH_ENGINE ?? path.join(__dirname, '..', 'dist', 'engine'));

/** The engine on the parent's Redis and namespace, silent: children only report by IPC. */
function createRedstream() {
  return new engine.Redstream({
    redis: process.env.BENCH_REDIS_URL,
    namespace: process.env.BENCH_NAMESPACE,
    logger: engine.silentLogger,
  });
}

function spin(microseconds) {
  const until = process.hrtime.bigint() + BigInt(Math.round(microseconds * 1_000));
  while (process.hrtime.bigint() < until);
}

/** A handler that spends BENCH_WORK_US of CPU per entry: the work that more processes share. */
function workHandler() {
  const workUs = Number(process.env.BENCH_WORK_US ?? 0);
  return (messages) => {
    if (workUs > 0) spin(workUs * messages.length);
  };
}

/** On the parent's { stop: true }: `stop()`, close the engine, exit 0. */
function stopOnMessage(redstream, stop) {
  process.on('message', async (message) => {
    if (!message.stop) return;
    await stop();
    await redstream.close();
    process.exit(0);
  });
}

/** Runs the child's async `main`; a failure goes to stderr and exits 1, which the parent sees. */
function runChild(main) {
  main().catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  });
}

module.exports = { engine, createRedstream, workHandler, stopOnMessage, runChild };
