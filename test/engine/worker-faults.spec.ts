import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';

const ROOT = join(__dirname, '..', '..');

interface ChildResult {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

function runFaultChild(): Promise<ChildResult> {
  const child = spawn(
    process.execPath,
    ['--require', join(ROOT, 'test', 'support', 'ts-register.js'), join(__dirname, 'fixtures', 'fault-child.ts')],
    {
      env: {
        ...process.env,
        REDSTREAM_FAULT_CHILD: JSON.stringify({ redisUrl: testRedisUrl(), namespace: uniqueNamespace() }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) =>
      resolve({
        code,
        stderr,
        lines: stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      }),
    ),
  );
}

// Issue 14: no worker error may ever leave the process. The child fails (exit code 3) on any
// uncaught exception or unhandled rejection while its workers meet a failing loop step (a
// commit on a broken lock key), a failing lock keep-alive (a timer), a failing read ahead,
// listeners that throw on every event, a handler that throws (an Error and a string), and a
// logger that throws on every line; a healthy consumer beside them keeps working.
describe('worker faults stay inside the worker', () => {
  it('no uncaught exception or unhandled rejection; every worker gets past its fault', async () => {
    const result = await runFaultChild();
    const last = result.lines[result.lines.length - 1];
    expect({ code: result.code, last }).toEqual({ code: 0, last: expect.objectContaining({ type: 'done' }) });
    const done = last as {
      handled: Record<string, number>;
      listenerThrows: Record<string, number>;
      loggerCalls: number;
      handlerCalls: number;
    };
    expect(done.handled.control).toBe(10);
    expect(done.handled.handler).toBe(10);
    // Every source of a throw was exercised.
    expect(done.handlerCalls).toBeGreaterThanOrEqual(3);
    expect(done.listenerThrows.active).toBeGreaterThanOrEqual(4);
    expect(done.listenerThrows.committed).toBeGreaterThan(0);
    expect(done.listenerThrows.failed).toBeGreaterThanOrEqual(3);
    expect(done.listenerThrows.standby).toBeGreaterThan(0);
    expect(done.loggerCalls).toBeGreaterThan(0);
    // What the logger could not take went to console.error, with why.
    expect(result.stderr).toMatch(/\(the logger threw on a error line: logger down \(error\)\) Consumer locked:c: /);
    expect(result.stderr).toMatch(
      /\(the logger threw on a warn line: logger down \(warn\)\) Consumer locked:c: refreshing the lock failed/,
    );
    expect(result.stderr).toMatch(/a listener of the 'committed' event threw: listener of committed throws/);
    expect(result.stderr).toMatch(/Consumer readahead:c: .*WRONGTYPE/);
  }, 60_000);
});
