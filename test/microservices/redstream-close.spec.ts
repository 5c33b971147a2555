import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';

const ROOT = join(__dirname, '..', '..');

describe('closing a RedstreamServer microservice and a RedstreamClient', () => {
  it('leaves nothing that keeps the process alive', async () => {
    const child = spawn(
      process.execPath,
      ['--require', join(ROOT, 'test', 'support', 'ts-register.js'), join(__dirname, 'fixtures', 'close-child.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          REDSTREAM_CLOSE_CHILD_URL: testRedisUrl(),
          REDSTREAM_CLOSE_CHILD_NAMESPACE: uniqueNamespace('close'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let printedAt = 0;
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      printedAt = performance.now();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const livedOnMs = performance.now() - printedAt;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({ handled: [0, 1, 2] });
    // Node exits as soon as nothing is left; a forgotten connection keeps it alive for ever, a
    // Delayer nap not cut short by the stop for up to its 10 s lock ttl.
    expect(livedOnMs).toBeLessThan(2_000);
  }, 60_000);
});
