// One member of the group-scale scenario, in a process of its own: a GroupConsumer of the
// built engine whose handler spends BENCH_WORK_US of CPU per entry. Tells the parent when it
// is active and how many entries it acked; stops on { stop: true }.
const path = require('node:path');

const engine = require(process.env.REDSTREAM_BENCH_ENGINE ?? path.join(__dirname, '..', 'dist', 'engine'));
const workUs = Number(process.env.BENCH_WORK_US ?? 0);

function spin(microseconds) {
  const until = process.hrtime.bigint() + BigInt(Math.round(microseconds * 1_000));
  while (process.hrtime.bigint() < until);
}

async function main() {
  const redstream = new engine.Redstream({
    redis: process.env.BENCH_REDIS_URL,
    namespace: process.env.BENCH_NAMESPACE,
    logger: engine.silentLogger,
  });
  const groupConsumer = redstream.groupConsumer({
    stream: process.env.BENCH_STREAM,
    group: process.env.BENCH_GROUP,
    batchSize: Number(process.env.BENCH_BATCH),
    blockMs: 1_000,
    handler: (messages) => {
      if (workUs > 0) spin(workUs * messages.length);
    },
  });
  groupConsumer.on('acked', (count) => process.send({ acked: count }));
  groupConsumer.once('active', () => process.send({ ready: true }));
  process.on('message', async (message) => {
    if (!message.stop) return;
    await groupConsumer.stop();
    await redstream.close();
    process.exit(0);
  });
  groupConsumer.start();
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
