import { join } from 'node:path';
import { Redstream, RedstreamClosedError, silentLogger } from '../../lib/engine';
import { runFixtureUntilExit } from '../support/exit-promptness';
import { freePort } from '../support/redis-server';
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

describe('closing after Redis went away', () => {
  // ioredis leaves timers behind on a socket that is already closed or dead: the 2 s
  // `disconnectTimeout` armed by disconnect() between reconnect attempts, and the 10 s
  // `socketTimeout` of a command that never got a reply. close() clears them, so nothing
  // keeps the process (or a Jest worker) alive after it.
  const closeAfter = (outage: 'down' | 'stalled', url: string) =>
    runFixtureUntilExit(join(__dirname, 'fixtures', 'close-after-outage-child.ts'), {
      REDSTREAM_OUTAGE: outage,
      REDSTREAM_CLOSE_CHILD_URL: url,
      REDSTREAM_CLOSE_CHILD_NAMESPACE: uniqueNamespace('close'),
    });

  it('with Redis down (reconnecting), the process exits right after close()', async () => {
    const { code, stdout, stderr, livedOnMs } = await closeAfter('down', `redis://127.0.0.1:${await freePort()}`);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({ closeMs: expect.any(Number), handled: 0 });
    expect(livedOnMs).toBeLessThan(1_000);
  }, 30_000);

  it('with its connections dead (QUIT unanswered), the process exits right after close()', async () => {
    const { code, stdout, stderr, livedOnMs } = await closeAfter('stalled', testRedisUrl());
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const { closeMs, handled } = JSON.parse(stdout) as { closeMs: number; handled: number };
    expect(handled).toBe(1);
    expect(closeMs).toBeLessThan(2_000);
    expect(livedOnMs).toBeLessThan(1_000);
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
