import { join } from 'node:path';
import { Redstream, RedstreamClosedError, silentLogger } from '../../lib/engine';
import { runFixtureUntilExit } from '../support/exit-promptness';
import { TcpProxy } from '../support/tcp-proxy';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';

describe('stopping with Redis unreachable', () => {
  // A blackhole accepts connections and never answers: the lock's acquire, the offset GET and
  // the trim would wait for their socket timeout (10 s), and a socket that never became ready
  // kept the process alive ~10 s after close().
  it('stop() and close() return at once, and the process exits right after', async () => {
    const proxy = await TcpProxy.start(Number(new URL(testRedisUrl()).port));
    proxy.blackhole();
    try {
      const { code, stdout, stderr, livedOnMs } = await runFixtureUntilExit(
        join(__dirname, 'fixtures', 'close-child.ts'),
        {
          REDSTREAM_CLOSE_CHILD_URL: proxy.url,
        },
      );
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const { stopMs, closeMs } = JSON.parse(stdout) as { stopMs: number; closeMs: number };
      expect(proxy.stats.connections).toBeGreaterThan(0);
      expect(stopMs).toBeLessThan(1_000);
      expect(closeMs).toBeLessThan(2_000);
      expect(livedOnMs).toBeLessThan(3_000);
    } finally {
      await proxy.close();
    }
  }, 30_000);
});

describe('after Redstream.close()', () => {
  it("a worker's start() and creating a worker throw RedstreamClosedError", async () => {
    const redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace(), logger: silentLogger });
    const consumer = redstream.consumer({ stream: 'products', name: 'indexer', handler: () => undefined });
    const trimmer = redstream.trimmer({ stream: 'products' });
    consumer.start();
    await redstream.close();
    expect(() => consumer.start()).toThrow(RedstreamClosedError);
    expect(() => consumer.start()).toThrow(
      'Consumer products:indexer: start() after its Redstream was closed; create a new Redstream',
    );
    expect(() => trimmer.start()).toThrow(RedstreamClosedError);
    expect(consumer.isRunning).toBe(false);
    expect(() => redstream.consumer({ stream: 'products', name: 'other', handler: () => undefined })).toThrow(
      RedstreamClosedError,
    );
    await consumer.stop(); // still fine
  });
});
