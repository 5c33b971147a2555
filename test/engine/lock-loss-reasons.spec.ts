import Redis from 'ioredis';
import { Redstream } from '../../lib/engine';
import { scripts } from '../../lib/engine/scripts';
import { startCommandProxy } from '../support/command-proxy';
import { RecordingLogger } from '../support/recording-logger';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

// Issue 14: a batch that blocked the event loop past the lock's ttl lost the lock, and the log
// blamed the lock ("lost its lock") with no other instance running. The log must say that the
// event loop was blocked, for how long, and which lockTtlMs would do.
describe('why a lock was lost', () => {
  let namespace: string;
  let admin: Redis;
  let logger: RecordingLogger;
  const stops: (() => Promise<void>)[] = [];
  const streamKey = (): string => `${namespace}:redstream:stream:products`;
  const lockKey = (): string => `${namespace}:redstream:lock:consumer:products:indexer`;

  beforeEach(() => {
    namespace = uniqueNamespace();
    admin = connectTestRedis();
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await admin.quit();
  });

  it('says the event loop was blocked, for how long, and the lockTtlMs to raise', async () => {
    const redstream = new Redstream({ redis: testRedisUrl(), namespace, logger });
    stops.push(() => redstream.close());
    await admin.xadd(streamKey(), '*', 'payload', '{"id":1}');
    let calls = 0;
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      lockTtlMs: 1_000,
      lockRefreshMs: 300,
      handler: () => {
        calls++;
        if (calls > 1) return;
        const until = Date.now() + 1_800;
        while (Date.now() < until) {
          // Synchronous work that outlasts the lock: no refresh can be sent meanwhile.
        }
      },
    });
    stops.push(() => consumer.stop());
    const standby = new Promise<string>((resolve) => consumer.once('standby', resolve));
    consumer.start();
    const reason = await standby;
    expect(reason).toMatch(
      /lost its lock before committing \d+-\d+; not committed; the event loop was blocked for about (\d+) ms .*longer than .*\(lockTtlMs 1000\): raise lockTtlMs above (\d+) ms/,
    );
    const blockedMs = Number(/blocked for about (\d+) ms/.exec(reason)?.[1]);
    expect(blockedMs).toBeGreaterThanOrEqual(1_300);
    expect(blockedMs).toBeLessThan(5_000);
    expect(logger.matching('warn', /standing by .*the event loop was blocked/)).toHaveLength(1);
    // It takes the lock again and handles the batch.
    await waitFor(async () => (await consumer.committedOffset()) !== null);
    expect(calls).toBe(2);
  });

  it('says a commit refused after a reconnect may not have been committed', async () => {
    const proxy = await startCommandProxy(Number(new URL(testRedisUrl()).port));
    stops.push(() => proxy.close());
    const redstream = new Redstream({ redis: proxy.url, namespace, logger });
    stops.push(() => redstream.close());
    await admin.xadd(streamKey(), '*', 'payload', '{"id":1}');
    await admin.script('LOAD', scripts.commitOffset.source);
    const lost = proxy.loseReplyOfNext(new RegExp(scripts.commitOffset.sha));
    const consumer = redstream.consumer({
      stream: 'products',
      name: 'indexer',
      handler: async () => {
        // Another instance takes the lock: the commit is refused, its reply lost, and the
        // client re-sends it after reconnecting, refused again.
        await admin.set(lockKey(), 'another-owner', 'PX', 10_000);
      },
    });
    stops.push(() => consumer.stop());
    const standby = new Promise<string>((resolve) => consumer.once('standby', resolve));
    consumer.start();
    await lost;
    expect(await standby).toMatch(
      /lost its lock before committing \d+-\d+; a reconnect happened meanwhile \(ioredis re-sends unanswered commands\): it may not have been committed/,
    );
  });
});
