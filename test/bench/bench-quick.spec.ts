import { join } from 'node:path';
import * as engine from '../../lib/engine';
import { runCli } from '../../bench/run';
import { testRedisUrl } from '../support/test-redis';

// A smoke test of `npm run bench -- --quick --json`: the figures are timing-dependent and
// are not checked against the targets here, only that every row is there and measured.
describe('bench --quick --json', () => {
  it('prints one JSON object with the machine and a positive figure for every row', async () => {
    // The group-scale members are child processes: they load the same TypeScript engine.
    process.env.REDSTREAM_BENCH_ENGINE = join(__dirname, '..', '..', 'lib', 'engine');
    process.env.REDSTREAM_BENCH_MEMBER_REQUIRE = join(__dirname, '..', 'support', 'ts-register.js');
    let printed = '';
    await runCli(['--quick', '--json'], {
      engine,
      redisUrl: testRedisUrl(),
      write: (text) => (printed += text),
      log: () => undefined,
    });

    const report = JSON.parse(printed);
    expect(report.machine).toEqual(
      expect.objectContaining({ cpu: expect.any(String), cores: expect.any(Number), node: process.version }),
    );
    expect(report.machine.redis).toMatch(/^\d+\.\d+/);
    expect(report.results.map((row: { name: string }) => row.name)).toEqual([
      'bulk produce',
      'bulk() with delay messages',
      'concurrent single writes',
      'consume',
      'shared reads',
      'group-consume',
      'group-scale',
      'delayer',
      'end-to-end latency p50',
      'end-to-end latency p99',
      'consumer RSS growth',
      'Consumer vs BullMQ',
    ]);
    for (const row of report.results) {
      expect(row).toEqual(
        expect.objectContaining({
          name: expect.any(String),
          unit: expect.any(String),
          target: expect.any(String),
          met: expect.any(Boolean),
        }),
      );
      if (row.unit === 'MB') {
        // Memory growth has no baseline and may honestly be 0.
        expect(row.library).toBeGreaterThanOrEqual(0);
        expect(row.baseline).toBeNull();
        expect(row.ratio).toBeNull();
      } else {
        expect(row.library).toBeGreaterThan(0);
        expect(row.baseline).toBeGreaterThan(0);
        expect(row.ratio).toBeGreaterThan(0);
      }
    }
  }, 60_000);
});
