// One process of the shard-scale scenario: a consumer per shard of
// redstreamShards(BENCH_STREAM, BENCH_SHARDS) on the built engine, balanced with the other
// processes (the default), whose handler spends BENCH_WORK_US of CPU per entry. Tells the
// parent how many shards it owns and how many entries it committed; stops on { stop: true }.
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
  const shards = engine.redstreamShards(process.env.BENCH_STREAM, Number(process.env.BENCH_SHARDS));
  const consumers = shards.consumers(redstream, {
    name: 'bench',
    batchSize: Number(process.env.BENCH_BATCH),
    blockMs: 1_000,
    // Balanced sooner than by default: the scenario times consumption, not the hand-over.
    shardBalanceDelayMs: 500,
    handler: (messages) => {
      if (workUs > 0) spin(workUs * messages.length);
    },
  });
  const owned = () => consumers.filter((consumer) => consumer.isActive).length;
  for (const consumer of consumers) {
    consumer.on('active', () => process.send({ owned: owned() }));
    consumer.on('standby', () => process.send({ owned: owned() }));
    consumer.on('committed', (_offset, count) => process.send({ committed: count }));
  }
  process.on('message', async (message) => {
    if (!message.stop) return;
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await redstream.close();
    process.exit(0);
  });
  for (const consumer of consumers) consumer.start();
  process.send({ ready: true });
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
