import Redis from 'ioredis';
import { Consumer, Redstream, RedstreamConfigError, RedstreamOptions, silentLogger } from '../../lib/engine';
import { mergeKeyspaceEventFlags } from '../../lib/engine/lock-expiry-watch';
import { resolveModuleOptions } from '../../lib/nest/redstream-module-options.resolver';
import { listClients, newestClientId, waitForBlockedClient } from '../support/blocked-clients';
import { documentedAclRule } from '../support/documented-acl-rule';
import { RecordingLogger } from '../support/recording-logger';
import { RedisServerHandle, startRedisServer } from '../support/redis-server';
import { uniqueNamespace, waitFor } from '../support/test-redis';
import { spawnWorkerChild, WorkerChild } from '../support/worker-child';

// Fast takeover after kill -9: a standby learns of the crashed owner's lock expiry from Redis's
// expired-key events instead of its next poll. Each test runs its own redis-server, since
// notify-keyspace-events and ACL users are server-wide.
describe('takeover after a crash (lock expiry events)', () => {
  const lockTtlMs = 1_500;
  const lockRefreshMs = 300;
  // Polling alone takes up to this long after the expiry: only the events make takeover fast.
  const longPollMs = 20_000;

  let server: RedisServerHandle | undefined;
  let admin: Redis | undefined;
  const engines: Redstream[] = [];
  const children: WorkerChild[] = [];

  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
    await Promise.all(engines.splice(0).map((engine) => engine.close()));
    admin?.disconnect();
    admin = undefined;
    await server?.stop();
    server = undefined;
  });

  async function startServer(args: string[] = []): Promise<RedisServerHandle> {
    server = await startRedisServer({ args });
    admin = new Redis(server.url);
    return server;
  }

  function engine(options: RedstreamOptions): Redstream {
    const created = new Redstream(options);
    engines.push(created);
    return created;
  }

  /** The owner, in a process of its own, active on `products`/`indexer`. */
  async function spawnOwner(url: string, namespace: string, name = 'indexer'): Promise<WorkerChild> {
    const child = await spawnWorkerChild({
      redisUrl: url,
      namespace,
      role: 'consumer',
      stream: 'products',
      name,
      lockTtlMs,
      lockRefreshMs,
      standbyPollMs: longPollMs,
    });
    children.push(child);
    await child.waitForEvent((event) => event.type === 'active');
    return child;
  }

  /** How many connections newer than `newerThan` are blocked in `command` now. */
  async function blockedIn(command: string, newerThan: number): Promise<number> {
    return (await listClients(admin!)).filter(
      (client) => client.id > newerThan && client.cmd === command && client.flags.includes('b'),
    ).length;
  }

  function standby(
    redstream: Redstream,
    activations: number[],
    name = 'indexer',
    standbyPollMs = longPollMs,
  ): Consumer {
    const consumer = redstream.consumer({
      stream: 'products',
      name,
      lockTtlMs,
      lockRefreshMs,
      standbyPollMs,
      handler: () => undefined,
    });
    consumer.on('active', () => activations.push(Date.now()));
    consumer.start();
    return consumer;
  }

  it('takes over right at the lock expiry after kill -9, with exactly one new owner', async () => {
    const { url } = await startServer(['--notify-keyspace-events', 'Ex']);
    const namespace = uniqueNamespace();
    const child = await spawnOwner(url, namespace);
    const connectedBefore = await newestClientId(admin!);
    // Two standbys in two engines, as in two processes: each has its subscriber and pushes a wake-up.
    const standbyEngines = [0, 1].map(() => engine({ redis: url, namespace, logger: silentLogger }));
    const activations: number[][] = [[], []];
    const consumers = standbyEngines.map((redstream, index) => standby(redstream, activations[index]));
    await waitFor(() => standbyEngines.every((redstream) => redstream.lockExpiry.listening));
    await waitFor(async () => (await blockedIn('brpop', connectedBefore)) === 2);

    const lockKey = `${namespace}:redstream:lock:consumer:products:indexer`;
    const killedAt = Date.now();
    await child.kill('SIGKILL');
    await waitFor(() => activations.flat().length > 0, 10_000);
    const takeoverMs = Math.min(...activations.flat()) - killedAt;

    // Not before the lock expired (ttl after the last refresh, at most refreshMs before the
    // kill), and well before the next poll: the ttl plus event delivery and a loaded machine.
    expect(takeoverMs).toBeGreaterThanOrEqual(lockTtlMs - lockRefreshMs - 100);
    expect(takeoverMs).toBeLessThan(lockTtlMs + 2_500);
    const owner = await admin!.get(lockKey);
    expect(owner).not.toBeNull();
    // The other standby was woken too (or polls) but never became a second owner.
    await waitFor(async () => (await admin!.llen(`${lockKey}.notify`)) === 0);
    await new Promise((resolve) => setTimeout(resolve, lockTtlMs));
    expect(activations.flat()).toHaveLength(1);
    expect(consumers.filter((consumer) => consumer.isActive)).toHaveLength(1);
    expect(await admin!.get(lockKey)).toBe(owner);
  });

  it('falls back to polling, logging once, when events are off and CONFIG is forbidden by ACL', async () => {
    const { url, port } = await startServer();
    const namespace = uniqueNamespace();
    const user = 'takeover-acl';
    // The documented rule: SUBSCRIBE on the expiry channel allowed, CONFIG not.
    await admin!.call('ACL', 'SETUSER', user, ...documentedAclRule(user, 'secret', namespace));
    const owners = [await spawnOwner(url, namespace, 'indexer'), await spawnOwner(url, namespace, 'mailer')];
    const logger = new RecordingLogger();
    const redstream = engine({
      redis: `redis://${user}:secret@127.0.0.1:${port}`,
      namespace,
      logger,
      lockExpiryEvents: 'configure',
    });
    const pollMs = 2_000;
    const activations: number[] = [];
    standby(redstream, activations, 'indexer', pollMs);
    standby(redstream, activations, 'mailer', pollMs);
    await waitFor(() => logger.warnings.some((message) => /by polling/.test(message)), 15_000);

    const killedAt = Date.now();
    await Promise.all(owners.map((child) => child.kill('SIGKILL')));
    await waitFor(() => activations.length === 2, 15_000);
    // By polling: after the expiry, within one more poll (with room for a loaded machine).
    expect(Math.max(...activations) - killedAt).toBeLessThan(lockTtlMs + pollMs + 1_500);

    // Several waits of two standbys, one warning, which names both reasons and the way out.
    const warnings = logger.warnings.filter((message) => /takeover|take over/.test(message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/probe key/);
    expect(warnings[0]).toMatch(/CONFIG .*refused.*NOPERM/);
    expect(warnings[0]).toMatch(/notify-keyspace-events/);
    expect(redstream.lockExpiry.listening).toBe(false);
    expect(await admin!.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', '']);
  });

  it("'configure' adds E and x to the flags set on the server, removing none", async () => {
    const { url } = await startServer(['--notify-keyspace-events', 'Kg']);
    const namespace = uniqueNamespace();
    await spawnOwner(url, namespace);
    const logger = new RecordingLogger();
    const redstream = engine({ redis: url, namespace, logger, lockExpiryEvents: 'configure' });
    standby(redstream, []);
    await waitFor(() => redstream.lockExpiry.listening);
    const [, flags] = (await admin!.config('GET', 'notify-keyspace-events')) as string[];
    expect([...flags].sort()).toEqual(['E', 'K', 'g', 'x'].sort());
    expect(logger.warnings).toEqual([]);
  });

  it("'configure' sets the flags again after a Redis restart forgot them", async () => {
    let { url } = await startServer();
    const namespace = uniqueNamespace();
    const logger = new RecordingLogger();
    const redstream = engine({ redis: url, namespace, logger, lockExpiryEvents: 'configure' });
    const first = standby(redstream, [], 'indexer', 500);
    await waitFor(() => first.isActive);
    standby(redstream, [], 'indexer', 500);
    await waitFor(() => redstream.lockExpiry.listening);
    admin!.disconnect();
    server = await server!.restart();
    ({ url } = server);
    admin = new Redis(url);
    // The new server starts without the flags; the watch puts them back once it reconnected.
    await waitFor(async () => ((await admin!.config('GET', 'notify-keyspace-events')) as string[])[1] !== '', 15_000);
    expect(((await admin!.config('GET', 'notify-keyspace-events')) as string[])[1]).toMatch(/^(?=.*E)(?=.*x)/);
    expect(redstream.lockExpiry.listening).toBe(true);
    expect(logger.warnings.filter((message) => /by polling/.test(message))).toEqual([]);
  });

  it("'listen' does not change the server's flags; false opens no subscriber", async () => {
    const { url } = await startServer();
    const namespace = uniqueNamespace();
    await spawnOwner(url, namespace);
    const listening = new RecordingLogger();
    standby(engine({ redis: url, namespace, logger: listening }), []);
    await waitFor(() => listening.warnings.length > 0);
    expect(listening.warnings[0]).toMatch(/probe key.*lockExpiryEvents: 'configure'/s);
    expect(await admin!.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', '']);

    const off = new RecordingLogger();
    const connectedBefore = await newestClientId(admin!);
    standby(engine({ redis: url, namespace, logger: off, lockExpiryEvents: false }), []);
    await waitForBlockedClient(admin!, 'brpop', { newerThan: connectedBefore });
    expect((await listClients(admin!)).filter((client) => client.cmd === 'subscribe')).toEqual([]);
    expect(off.warnings).toEqual([]);
  });

  it('merges flags and validates the option', () => {
    expect(mergeKeyspaceEventFlags('')).toBe('Ex');
    expect(mergeKeyspaceEventFlags('Kg')).toBe('KgEx');
    expect(mergeKeyspaceEventFlags('AE')).toBe('AE');
    expect(mergeKeyspaceEventFlags('xE')).toBe('xE');
    expect(() => new Redstream({ lockExpiryEvents: 'yes' as unknown as false })).toThrow(
      /lockExpiryEvents must be 'listen', 'configure' or false, got "yes"/,
    );
    expect(() => resolveModuleOptions({ lockExpiryEvents: true as unknown as false })).toThrow(RedstreamConfigError);
    expect(resolveModuleOptions({}).lockExpiryEvents).toBe('listen');
    expect(resolveModuleOptions({ lockExpiryEvents: false }).lockExpiryEvents).toBe(false);
  });
});
