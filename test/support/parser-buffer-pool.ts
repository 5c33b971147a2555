import { waitFor } from './test-redis';

/**
 * For a spec file whose Redis replies run to megabytes: its `afterAll` waits until the intervals
 * started while it ran have been cleared, so that the Jest worker exits when asked instead of
 * being killed ("A worker process has failed to exit gracefully").
 *
 * The interval is ioredis's parser's (redis-parser): a reply spanning socket chunks grows a
 * buffer pool shared by the whole module, which a 50 ms interval, never unref'd, then shrinks by
 * a tenth per tick until it is under 50 KB: 2-3 s after replies of megabytes. The module keeps
 * it private, so the file's `setInterval` and `clearInterval` are wrapped to see it (each spec
 * file has a module registry and a global of its own: its redis-parser calls these).
 */
export function awaitParserBufferPoolShrinkAfterAll(timeoutMs = 20_000): void {
  const running = new Set<NodeJS.Timeout>();
  const originalSetInterval = globalThis.setInterval;
  const originalClearInterval = globalThis.clearInterval;
  beforeAll(() => {
    globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
      const interval = originalSetInterval(...args);
      running.add(interval);
      return interval;
    }) as typeof setInterval;
    globalThis.clearInterval = ((interval?: NodeJS.Timeout | string | number) => {
      running.delete(interval as NodeJS.Timeout);
      originalClearInterval(interval);
    }) as typeof clearInterval;
  });
  afterAll(async () => {
    try {
      await waitFor(() => [...running].every((interval) => !interval.hasRef()), timeoutMs, 50);
    } finally {
      globalThis.setInterval = originalSetInterval;
      globalThis.clearInterval = originalClearInterval;
    }
  }, timeoutMs + 5_000);
}
