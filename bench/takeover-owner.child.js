// The active consumer of the takeover scenario, in a process of its own so that the scenario
// can kill -9 it: a Consumer of the built engine that tells the parent once it is active.
const { createRedstream } = require('./bench-child');

const consumer = createRedstream().consumer({
  stream: process.env.BENCH_STREAM,
  name: process.env.BENCH_CONSUMER,
  ...JSON.parse(process.env.BENCH_TIMING),
  handler: () => undefined,
});
consumer.once('active', () => process.send({ active: true }));
consumer.start();
