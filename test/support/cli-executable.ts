import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedstreamStatus } from '../../lib/engine';

const repositoryRoot = join(__dirname, '..', '..');

/** The built `redstream` executable: its directory (removed by `removeExecutable`) and the script. */
export interface CliExecutable {
  dir: string;
  bin: string;
}

/** What one run of the executable did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The `redstream` executable as users run it: lib/ compiled with the build's tsconfig into a
 * directory of its own (this checkout's dist/ may be rebuilt by other specs meanwhile), the
 * Lua scripts beside it, the repository's node_modules reachable.
 */
export function buildExecutable(): CliExecutable {
  const dir = mkdtempSync(join(tmpdir(), 'redstream-cli-'));
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [tsc, '-p', join(repositoryRoot, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')],
    {
      cwd: repositoryRoot,
      timeout: 170_000,
    },
  );
  const scripts = join(repositoryRoot, 'lib', 'engine', 'scripts');
  for (const file of readdirSync(scripts).filter((name) => name.endsWith('.lua'))) {
    copyFileSync(join(scripts, file), join(dir, 'dist', 'engine', 'scripts', file));
  }
  symlinkSync(join(repositoryRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  return { dir, bin: join(dir, manifest.bin.redstream) };
}

export function removeExecutable(executable: CliExecutable | undefined): void {
  if (executable) rmSync(executable.dir, { recursive: true, force: true });
}

/** Runs the executable in a process of its own; never blocks this one (a consumer may run here). */
export function runExecutable(executable: CliExecutable, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [executable.bin, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `status` with every age set to 0: two reads a moment apart differ only there. */
export function withoutAges(status: RedstreamStatus): RedstreamStatus {
  return JSON.parse(JSON.stringify(status), (key: string, value: unknown) =>
    /AgeMs$|^lagMs$/.test(key) ? 0 : value,
  ) as RedstreamStatus;
}
