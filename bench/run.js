// `npm run bench [-- --quick] [-- --json] [-- --only consume,delayer] [-- --rounds 5]`: the npm
// script builds first; this starts its own redis-server unless REDIS_URL is set and prints a
// table (or with --json one JSON object) of library vs baseline figures. Opt-in scenarios
// (`takeover`: kill -9 of an active consumer, expiry events vs polling; `shard-scale`: 8 shards
// consumed by two balanced processes vs one) run only with --only.
const path = require('node:path');
const { runBench, formatTable } = require('./bench-runner');
const { startRedisServer } = require('./redis-server');

function parseArgs(argv) {
  const args = { quick: false, json: false, only: undefined, rounds: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') args.quick = true;
    else if (arg === '--json') args.json = true;
    else if (arg === '--only') args.only = argv[++i].split(',');
    else if (arg === '--rounds') args.rounds = Number(argv[++i]);
    else throw new Error(`unknown argument ${arg} (known: --quick, --json, --only a,b, --rounds n)`);
  }
  return args;
}

function loadBuiltEngine() {
  const location = process.env.REDSTREAM_BENCH_ENGINE ?? path.join(__dirname, '..', 'dist', 'engine');
  try {
    return require(location);
  } catch (error) {
    throw new Error(`cannot load the engine from ${location} (run \`npm run build\` first): ${error.message}`);
  }
}

/** Runs the benchmark as the command line does; `engine` defaults to the built one in dist/. */
async function runCli(argv, io = {}) {
  const args = parseArgs(argv);
  const engine = io.engine ?? loadBuiltEngine();
  const write = io.write ?? ((text) => process.stdout.write(text));
  const log = io.log ?? ((line) => process.stderr.write(`${line}\n`));
  const server = (io.redisUrl ?? process.env.REDIS_URL) ? undefined : await startRedisServer();
  const redisUrl = io.redisUrl ?? process.env.REDIS_URL ?? server.url;
  try {
    const report = await runBench({ engine, redisUrl, quick: args.quick, rounds: args.rounds, only: args.only, log });
    write(args.json ? `${JSON.stringify(report)}\n` : `${formatTable(report)}\n`);
    return report;
  } finally {
    await server?.stop();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exitCode = 1;
  });
}

module.exports = { runCli };
