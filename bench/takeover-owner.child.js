// The active consumer of the takeover scenario, in a process of its own so that the scenario
// can kill -9 it: a Consumer of the built engine that tells the parent once it is active.
const path = require('node:path');

const engine = require(process.env.REDSTREAM_BENCH_ENGINE ?? path.join(__dirname, '..', 'dist', 'engine'));

const redstream = new engine.Redstream({
  redis: process.env.BENCH_REDIS_URL,
  namespace: process.env.BENCH_NAMESPACE,
  logger: engine.silentLogger,
});
const consumer = redstream.consumer({
  stream: process.env.BENCH_STREAM,
  name: process.env.BENCH_CONSUMER,
  ...JSON.parse(process.env.BENCH_TIMING),
  handler: () => undefined,
});
consumer.once('active', () => process.send({ active: true }));
consumer.start();
