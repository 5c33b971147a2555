// Runs every scenario, alternating library and baseline runs within one process and one
// Redis so that both see the same machine load, and reports medians and ratios.
const os = require('node:os');
const { connectRaw } = require('./bench-helpers');
const { median } = require('./bench-stats');
const { bulkProduce, bulkWithDelay, concurrentWrites } = require('./scenarios/produce.scenario');
const { consume, sharedReads } = require('./scenarios/consume.scenario');
const { groupConsume, groupScale } = require('./scenarios/group.scenario');
const { delayer } = require('./scenarios/delayer.scenario');
const { latency } = require('./scenarios/latency.scenario');
const { memory } = require('./scenarios/memory.scenario');
const { bullmq } = require('./scenarios/bullmq.scenario');
const { takeover } = require('./scenarios/takeover.scenario');
const { shardScale } = require('./scenarios/shards.scenario');

const SCENARIOS = [
  bulkProduce,
  bulkWithDelay,
  concurrentWrites,
  consume,
  sharedReads,
  groupConsume,
  groupScale,
  delayer,
  latency,
  memory,
  bullmq,
  // Opt-in (`optIn`): runs only when `--only` names it.
  takeover,
  shardScale,
];

function describeTarget(target) {
  if (target.atLeast !== undefined) return `>= ${target.atLeast}x baseline`;
  if (target.withinMs !== undefined) return `<= baseline + ${target.withinMs} ms`;
  return `< ${target.belowMb} MB`;
}

function meets(target, library, baseline) {
  if (target.atLeast !== undefined) return library / baseline >= target.atLeast;
  if (target.withinMs !== undefined) return library - baseline <= target.withinMs;
  return library < target.belowMb;
}

async function machineInfo(client) {
  const info = await client.info('server');
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    ioredis: require('ioredis/package.json').version,
    bullmq: require('bullmq/package.json').version,
    loadAverageAtStart: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

/**
 * @param {{ engine: object, redisUrl: string, quick?: boolean, rounds?: number, only?: string[],
 *   log?: (line: string) => void }} options
 */
async function runBench(options) {
  const quick = options.quick ?? false;
  const rounds = options.rounds ?? (quick ? 1 : 5);
  const log = options.log ?? (() => undefined);
  const raw = await connectRaw(options.redisUrl);
  const baselineClient = await connectRaw(options.redisUrl);
  const ctx = { engine: options.engine, redisUrl: options.redisUrl, quick, raw, baselineClient };
  const startedAt = Date.now();
  try {
    const machine = await machineInfo(raw);
    const results = [];
    const selected = SCENARIOS.filter((s) =>
      options.only ? options.only.some((word) => s.name.includes(word)) : !s.optIn,
    );
    if (selected.length === 0) {
      throw new Error(`--only ${options.only.join(',')} matches none of: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    }
    for (const scenario of selected) {
      const count = scenario.count(quick);
      const runs = { library: [], baseline: [] };
      const scenarioRounds = scenario.rounds ?? rounds * (scenario.roundsFactor ?? 1);
      if (!quick && !scenario.rounds) {
        // Untimed warm-up of both sides, so that neither pays for the JIT in its first run.
        const warmUpCount = Math.max(1, Math.round(count / 10));
        if (scenario.paired) await scenario.paired(ctx, warmUpCount);
        else for (const side of ['library', 'baseline']) await scenario[side]?.(ctx, warmUpCount);
      }
      for (let round = 0; round < scenarioRounds; round++) {
        // Alternate which side goes first, so that a drift in machine load hits both alike.
        if (typeof globalThis.gc === 'function') globalThis.gc();
        if (scenario.paired) {
          // Library and baseline take turns inside one run.
          const figures = await scenario.paired(ctx, count);
          for (const side of ['library', 'baseline']) {
            runs[side].push(figures[side]);
            log(`${scenario.name} [${side} ${round + 1}/${scenarioRounds}] ${JSON.stringify(figures[side], round2)}`);
          }
          continue;
        }
        const order = round % 2 === 0 ? ['library', 'baseline'] : ['baseline', 'library'];
        for (const side of order) {
          if (!scenario[side]) continue;
          if (typeof globalThis.gc === 'function') globalThis.gc();
          const figures = await scenario[side](ctx, count);
          runs[side].push(figures);
          log(`${scenario.name} [${side} ${round + 1}/${scenarioRounds}] ${JSON.stringify(figures, round2)}`);
        }
      }
      for (const metric of scenario.metrics) {
        const library = median(runs.library.map((figures) => figures[metric.key]));
        const baseline = runs.baseline.length > 0 ? median(runs.baseline.map((figures) => figures[metric.key])) : null;
        results.push({
          name: metric.name ?? scenario.name,
          what: scenario.what(count),
          library: round2(null, library),
          baseline: baseline === null ? null : round2(null, baseline),
          unit: metric.unit,
          ratio: baseline === null ? null : round2(null, library / baseline),
          target: describeTarget(metric.target),
          met: meets(metric.target, library, baseline),
          runs: runs.library.length,
          libraryRuns: runs.library.map((figures) => round2(null, figures[metric.key])),
          baselineRuns: runs.baseline.map((figures) => round2(null, figures[metric.key])),
        });
      }
    }
    return { machine, mode: quick ? 'quick' : 'full', durationS: Math.round((Date.now() - startedAt) / 1000), results };
  } finally {
    raw.disconnect();
    baselineClient.disconnect();
  }
}

function round2(_key, value) {
  if (typeof value !== 'number') return value;
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
}

function formatTable(report) {
  const m = report.machine;
  const lines = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB; ${m.os}; Node ${m.node}, Redis ${m.redis}, ` +
      `ioredis ${m.ioredis}, BullMQ ${m.bullmq}; load average at start ${m.loadAverageAtStart.join(' ')}`,
    `Mode: ${report.mode}; library and baseline runs alternate, figures are medians; ${report.durationS} s`,
    '',
    '| what | library | baseline | unit | library/baseline | target | met | runs |',
    '|---|---:|---:|---|---:|---|---|---:|',
  ];
  for (const r of report.results) {
    lines.push(
      `| ${r.name} | ${r.library} | ${r.baseline ?? '—'} | ${r.unit} | ${r.ratio ?? '—'} | ${r.target} | ${r.met ? 'yes' : 'NO'} | ${r.runs} |`,
    );
  }
  lines.push('', 'What each row measures:');
  for (const r of report.results) lines.push(`- ${r.name}: ${r.what}`);
  return lines.join('\n');
}

module.exports = { runBench, formatTable, SCENARIOS };
