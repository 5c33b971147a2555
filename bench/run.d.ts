/** Figures of one benchmark row, as printed by `npm run bench -- --json`. */
export interface BenchResult {
  name: string;
  /** What was run on each side. */
  what: string;
  /** Median of the library runs. */
  library: number;
  /** Median of the baseline runs; null where there is no baseline (memory). */
  baseline: number | null;
  unit: string;
  /** library / baseline; null without a baseline. */
  ratio: number | null;
  /** The goal, e.g. `>= 0.9x baseline`. */
  target: string;
  met: boolean;
  runs: number;
  libraryRuns: number[];
  baselineRuns: number[];
}

export interface BenchMachine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  redis: string;
  ioredis: string;
  bullmq: string;
  loadAverageAtStart: number[];
}

export interface BenchReport {
  machine: BenchMachine;
  mode: 'quick' | 'full';
  durationS: number;
  results: BenchResult[];
}

export interface BenchIo {
  /** The Redis to use; default REDIS_URL, else a redis-server started for the run. */
  redisUrl?: string;
  /** The engine module to measure; default: the build in dist/engine. */
  engine?: object;
  /** Where the table or JSON goes; default stdout. */
  write?: (text: string) => void;
  /** Progress lines; default stderr. */
  log?: (line: string) => void;
}

/** Runs the benchmark with command line arguments (`--quick`, `--json`, `--only`, `--rounds`). */
export function runCli(argv: string[], io?: BenchIo): Promise<BenchReport>;
