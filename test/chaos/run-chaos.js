// `npm run chaos`: builds dist/ (the npm script does), then runs the full chaos soak against it
// and exits non-zero on any violation. Options: --short (the jest variant's size), --seed N,
// --messages N, --rate N (ids per second), --app nest|engine (app processes as NestJS
// applications, the default, or on the bare engine), --group (group mode: the app processes are
// members of one consumer group, with poison entries), --keep (keep logs and AOF of a passing run).
require('../support/ts-register.js');
const path = require('node:path');
const {
  runChaos,
  FULL_RUN,
  SHORT_RUN,
  GROUP_FULL_RUN,
  GROUP_SHORT_RUN,
  compiledLibrary,
} = require('./chaos-harness.ts');

function argument(name) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

async function main() {
  const short = process.argv.includes('--short');
  const base = process.argv.includes('--group')
    ? short
      ? GROUP_SHORT_RUN
      : GROUP_FULL_RUN
    : short
      ? SHORT_RUN
      : FULL_RUN;
  const options = {
    ...base,
    seed: Number(argument('seed') ?? base.seed),
    messages: Number(argument('messages') ?? base.messages),
    ratePerSec: Number(argument('rate') ?? base.ratePerSec),
    app: argument('app') ?? base.app,
    keepDir: process.argv.includes('--keep'),
    log: (line) => console.log(line),
  };
  const library = compiledLibrary(path.join(__dirname, '..', '..'), options.log);
  options.dist = library.dist;
  const startedAt = Date.now();
  const { report, lines } = await runChaos(options).finally(library.dispose);
  console.log(
    `\n=== chaos soak: ${options.messages} ids at ${options.ratePerSec}/s, seed ${options.seed}, ${((Date.now() - startedAt) / 1000).toFixed(0)} s ===`,
  );
  for (const line of lines) console.log(line);
  process.exit(report.ok ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
