import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';

const ROOT = join(__dirname, '..', '..');

describe('without @opentelemetry/api (the optional peer cannot be loaded)', () => {
  it('produces, delays, consumes and trims as usual, recording nothing and writing only payload', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--require',
        join(ROOT, 'test', 'support', 'ts-register.js'),
        join(__dirname, 'fixtures', 'no-opentelemetry-child.ts'),
      ],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...process.env, REDSTREAM_CHILD_URL: testRedisUrl(), REDSTREAM_CHILD_NAMESPACE: uniqueNamespace() },
      },
    );
    const report = JSON.parse(stdout) as {
      refusedAtImport: number;
      refused: number;
      loaded: number;
      handled: unknown[];
      fields: string[][];
      trimmed: number;
    };
    // Importing the package does not even try; creating a Redstream tries once, lazily.
    expect(report.refusedAtImport).toBe(0);
    expect(report.refused).toBe(1);
    expect(report.loaded).toBe(0);
    expect(report.handled).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(report.fields).toEqual([
      ['payload', '{"id":1}'],
      ['payload', '{"id":2}'],
      ['payload', '{"id":3}'],
    ]);
    expect(report.trimmed).toBe(3);
  }, 90_000);
});
