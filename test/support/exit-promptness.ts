import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = join(__dirname, '..', '..');

/** How a TypeScript fixture ran: its exit code, output, and how long it lived after it printed. */
export interface FixtureExit {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from its last stdout output to its exit: what a leaked handle prolongs. */
  livedOnMs: number;
}

/**
 * Runs the TypeScript `fixture` in a node process of its own (through ts-register.js, from the
 * repository root) with `env` added to this process's environment, until it exits.
 */
export async function runFixtureUntilExit(fixture: string, env: NodeJS.ProcessEnv): Promise<FixtureExit> {
  const child = spawn(process.execPath, ['--require', join(ROOT, 'test', 'support', 'ts-register.js'), fixture], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printedAt = 0;
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    printedAt = performance.now();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr, livedOnMs: performance.now() - printedAt };
}
