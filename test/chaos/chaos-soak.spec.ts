import { join } from 'node:path';
import { compiledLibrary, GROUP_SHORT_RUN, runChaos, SHORT_RUN } from './chaos-harness';

// The short variant of `npm run chaos`: real processes (redis-server with AOF, a producer, two
// consumer names with an active and a standby process each, Delayer and Trimmer) under a
// handful of seeded faults, checked like the full run; then the same in group mode (three
// members of one group, poison entries). A failing run keeps its logs and AOF.
describe('chaos soak (short)', () => {
  it('loses nothing, keeps order per owner and fences stale owners under faults', async () => {
    const lines: string[] = [];
    const log = (line: string): void => void lines.push(line);
    const library = compiledLibrary(join(__dirname, '..', '..'), log);
    const { report, lines: summary } = await runChaos({ ...SHORT_RUN, dist: library.dist, log }).finally(
      library.dispose,
    );
    if (!report.ok) console.log([...lines, ...summary].join('\n'));
    expect(report.violations).toEqual([]);
    expect(report.figures.faults.kill9).toBeGreaterThanOrEqual(2);
    for (const name of SHORT_RUN.consumerNames) {
      expect(report.figures.names[name].handled).toBe(report.figures.streamEntries);
    }
    expect(report.figures.payloadIdsAcknowledged).toBe(SHORT_RUN.messages);
  }, 120_000);

  it('group mode: every entry handled at least once but the poison ones, which are exactly the dead letters; nothing pending', async () => {
    const lines: string[] = [];
    const log = (line: string): void => void lines.push(line);
    const library = compiledLibrary(join(__dirname, '..', '..'), log);
    const { report, lines: summary } = await runChaos({ ...GROUP_SHORT_RUN, dist: library.dist, log }).finally(
      library.dispose,
    );
    if (!report.ok) console.log([...lines, ...summary].join('\n'));
    expect(report.violations).toEqual([]);
    expect(report.figures.faults.kill9).toBeGreaterThanOrEqual(2);
    const group = report.figures.group!;
    expect(group.handled + group.poisonEntries).toBe(report.figures.streamEntries);
    expect(group.poisonEntries).toBeGreaterThanOrEqual(GROUP_SHORT_RUN.group!.poisonCount);
    expect(group.pendingAtEnd).toBe(0);
    expect(report.figures.payloadIdsAcknowledged).toBe(GROUP_SHORT_RUN.messages);
  }, 120_000);
});
