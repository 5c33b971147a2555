import { waitFor } from './test-redis';

const activeTimeouts = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

/**
 * For a spec file whose Redis replies run to megabytes: its `afterAll` waits until the timers
 * the file left behind have ended, so that the Jest worker exits when asked instead of being
 * killed ("A worker process has failed to exit gracefully").
 *
 * The timer is ioredis's parser's (redis-parser): a reply spanning socket chunks grows a buffer
 * pool shared by the whole module, which a 50 ms interval, never unref'd, then shrinks by a tenth
 * per tick until it is under 50 KB: a few seconds after replies of megabytes. It is private to that
 * module, so this counts the process's active timers against the count before the file ran.
 */
export function awaitParserBufferPoolShrinkAfterAll(timeoutMs = 20_000): void {
  let before = 0;
  beforeAll(() => {
    before = activeTimeouts();
  });
  afterAll(async () => {
    await waitFor(() => activeTimeouts() <= before, timeoutMs, 50);
  }, timeoutMs + 5_000);
}
