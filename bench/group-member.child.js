// One member of the group-scale scenario, in a process of its own: a GroupConsumer of the
// built engine whose handler spends BENCH_WORK_US of CPU per entry. Tells the parent when it
// is active and how many entries it acked; stops on { stop: true }.
const { createRedstream, workHandler, stopOnMessage, runChild } = require('./bench-child');

runChild(async () => {
  const redstream = createRedstream();
  const groupConsumer = redstream.groupConsumer({
    stream: process.env.BENCH_STREAM,
    group: process.env.BENCH_GROUP,
    batchSize: Number(process.env.BENCH_BATCH),
    blockMs: 1_000,
    handler: workHandler(),
  });
  groupConsumer.on('acked', (count) => process.send({ acked: count }));
  groupConsumer.once('active', () => process.send({ ready: true }));
  stopOnMessage(redstream, () => groupConsumer.stop());
  groupConsumer.start();
});
