// One process of the shard-scale scenario: a consumer per shard of
// redstreamShards(BENCH_STREAM, BENCH_SHARDS) on the built engine, balanced with the other
// processes (the default), whose handler spends BENCH_WORK_US of CPU per entry. Tells the
// parent how many shards it owns and how many entries it committed; stops on { stop: true }.
const { engine, createRedstream, workHandler, stopOnMessage, runChild } = require('./bench-child');

runChild(async () => {
  const redstream = createRedstream();
  const shards = engine.redstreamShards(process.env.BENCH_STREAM, Number(process.env.BENCH_SHARDS));
  const consumers = shards.consumers(redstream, {
    name: 'bench',
    batchSize: Number(process.env.BENCH_BATCH),
    blockMs: 1_000,
    // Balanced sooner than by default: the scenario times consumption, not the hand-over.
    shardBalanceDelayMs: 500,
    handler: workHandler(),
  });
  const owned = () => consumers.filter((consumer) => consumer.isActive).length;
  for (const consumer of consumers) {
    consumer.on('active', () => process.send({ owned: owned() }));
    consumer.on('standby', () => process.send({ owned: owned() }));
    consumer.on('committed', (_offset, count) => process.send({ committed: count }));
  }
  stopOnMessage(redstream, () => Promise.all(consumers.map((consumer) => consumer.stop())));
  for (const consumer of consumers) consumer.start();
  process.send({ ready: true });
});
