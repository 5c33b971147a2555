import Redis from 'ioredis';
import { Redstream, silentLogger } from '../../lib/engine';
import { BackgroundWorker, BackgroundWorkerEvents } from '../../lib/engine/background-worker';
import { AlwaysHeldLease } from '../../lib/engine/leases/always-held-lease';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

interface ListWorkerEvents extends BackgroundWorkerEvents {
  active: [];
}

/**
 * What a worker without a single owner looks like on the shared loop (as a consumer-group
 * member will): an always-held lease, a step that pops from a list with a watched blocking
 * command, and nothing else; start, stop, backoff and logging come from the base.
 */
class ListWorker extends BackgroundWorker<ListWorkerEvents> {
  readonly popped: string[] = [];

  constructor(
    redstream: Redstream,
    private readonly listKey: string,
  ) {
    super({
      label: `ListWorker ${listKey}`,
      logger: silentLogger,
      connections: redstream.connections,
      timing: { backoffInitialMs: 10, backoffMaxMs: 20, readGraceMs: 1_000 },
      lease: () => new AlwaysHeldLease(),
    });
  }

  protected override async step(): Promise<void> {
    const reply = await this.reader.watch(100, (client) => client.brpop(this.listKey, 0.1));
    if (!reply) return;
    if (reply[1] === 'poison') throw new Error('poison item');
    this.popped.push(reply[1]);
  }

  protected override announceActive(): void {
    this.emit('active');
  }
}

describe('BackgroundWorker with an always-held lease', () => {
  let redstream: Redstream;
  let admin: Redis;
  let listKey: string;

  beforeEach(() => {
    const namespace = uniqueNamespace();
    listKey = `${namespace}:items`;
    admin = connectTestRedis();
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
  });
  afterEach(async () => {
    await redstream.close();
    await admin.quit();
  });

  it('runs every instance at once, retries failures, stops promptly and restarts', async () => {
    const first = new ListWorker(redstream, listKey);
    const second = new ListWorker(redstream, listKey);
    const failures: Error[] = [];
    first.on('failed', (error) => failures.push(error));
    second.on('failed', (error) => failures.push(error));
    first.start();
    second.start();
    await waitFor(() => first.isActive && second.isActive);

    const items = Array.from({ length: 40 }, (_, index) => `item-${index}`);
    await admin.lpush(listKey, ...items.slice(0, 20), 'poison', ...items.slice(20));
    await waitFor(() => first.popped.length + second.popped.length === items.length);
    expect([...first.popped, ...second.popped].sort()).toEqual([...items].sort());
    expect(failures.map((error) => error.message)).toEqual(['poison item']);

    const startedAt = Date.now();
    await Promise.all([first.stop(), second.stop()]);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(first.isActive || second.isActive).toBe(false);

    let reactivated = false;
    first.once('active', () => (reactivated = true));
    first.start();
    await admin.lpush(listKey, 'after-restart');
    await waitFor(() => first.popped.includes('after-restart'));
    expect(reactivated).toBe(true);
    await first.stop();
  });
});
