// Prints one closing line for CI, `Total: N passed, N failed[, N skipped]`, summed over every
// test run of .ci/run: Jest's `--json` result files (*.json) and node --test's TAP files (*.tap)
// in the folder given as the only argument. CI reads that plain line; Jest's own summary
// ("Tests: N passed, N total") is not a format it counts, and there are several runs to add up.
const fs = require('node:fs');
const path = require('node:path');

const folder = process.argv[2];
if (!folder) {
  console.error('usage: node scripts/ci/print-test-totals.js <results folder>');
  process.exit(2);
}

function jestCounts(file) {
  const result = JSON.parse(fs.readFileSync(file, 'utf8'));
  // A suite that fails to load (syntax error, failing import) has no failed test of its own.
  return {
    passed: result.numPassedTests,
    failed: result.numFailedTests + result.numRuntimeErrorTestSuites,
    skipped: result.numPendingTests + result.numTodoTests,
  };
}

function tapCounts(file) {
  const totals = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^# (pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
    if (match) totals[match[1]] = Number(match[2]);
  }
  if (totals.pass === undefined) throw new Error(`${file} has no TAP summary: did node --test finish?`);
  return {
    passed: totals.pass,
    failed: (totals.fail ?? 0) + (totals.cancelled ?? 0),
    skipped: (totals.skipped ?? 0) + (totals.todo ?? 0),
  };
}

const total = { passed: 0, failed: 0, skipped: 0 };
const files = fs
  .readdirSync(folder)
  .filter((name) => name.endsWith('.json') || name.endsWith('.tap'))
  .sort();
if (files.length === 0) throw new Error(`no test results in ${folder}`);
for (const name of files) {
  const counts = (name.endsWith('.json') ? jestCounts : tapCounts)(path.join(folder, name));
  // Worded unlike the closing line, so that CI cannot mistake it for a total.
  console.log(`${name}: passed ${counts.passed}, failed ${counts.failed}, skipped ${counts.skipped}`);
  for (const key of Object.keys(total)) total[key] += counts[key];
}
const skipped = total.skipped > 0 ? `, ${total.skipped} skipped` : '';
console.log(`Total: ${total.passed} passed, ${total.failed} failed${skipped}`);
process.exitCode = total.failed > 0 || total.passed === 0 ? 1 : 0;
