import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RedstreamKeys } from '../../lib';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

const ROOT = join(__dirname, '..', '..');

describe('RedstreamModule with enableShutdownHooks()', () => {
  it('on SIGTERM lets the handler in flight finish and commit, then the process exits', async () => {
    const redis = connectTestRedis();
    const namespace = uniqueNamespace('nest');
    const keys = new RedstreamKeys(namespace);
    const child = spawn(
      process.execPath,
      [
        '--require',
        join(ROOT, 'test/support/ts-register.js'),
        join(__dirname, 'fixtures/shutdown-hooks-app.ts'),
        testRedisUrl(),
        namespace,
        '800',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const events: { type: string; ids?: string[]; at: number }[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) events.push({ ...JSON.parse(line), at: Date.now() });
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );

    try {
      await waitFor(() => events.some((event) => event.type === 'ready'), 20_000);
      const id = await redis.xadd(keys.stream('products'), '*', 'payload', JSON.stringify({ id: 1 }));
      const handling = await waitFor(() => events.find((event) => event.type === 'handling'));
      expect(handling.ids).toEqual([id]);

      child.kill('SIGTERM');
      const exit = await exited;
      const handled = events.find((event) => event.type === 'handled');
      expect(handled).toBeDefined();
      expect(exit.at).toBeGreaterThanOrEqual(handled!.at);
      // Nest re-raises the signal once the application has closed.
      expect(exit.signal).toBe('SIGTERM');
      expect(await redis.get(keys.offset('products', 'indexer'))).toBe(id);
      expect(await redis.exists(keys.lock('consumer:products:indexer'))).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await redis.quit();
    }
  });
});
