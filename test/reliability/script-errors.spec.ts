import Redis from 'ioredis';
import { Redstream, RedstreamConnectionError, RedstreamPermissionError, RedstreamScriptError } from '../../lib/engine';
import { LuaScript, scripts } from '../../lib/engine/scripts';
import { documentedAclRule } from '../support/documented-acl-rule';
import { RecordingLogger } from '../support/recording-logger';
import { RedisServerHandle, startRedisServer } from '../support/redis-server';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

const OWNER = 'owner-1';

/** How to bring each script to the line that runs `denied`, and what the error must say. */
interface ScriptCase {
  script: LuaScript;
  operation: string;
  denied: string;
  line: number;
  /** Keys and args for the script in namespace `ns`; `prepare` writes what the script expects. */
  call(ns: string): { keys: string[]; args: (string | number)[] };
  prepare?(admin: Redis, ns: string): Promise<unknown>;
}

const lockKey = (ns: string): string => `${ns}:redstream:lock:consumer:products:indexer`;
const holdLock = (admin: Redis, ns: string): Promise<unknown> => admin.set(lockKey(ns), OWNER, 'PX', 60_000);

const CASES: ScriptCase[] = [
  {
    script: scripts.acquireLock,
    operation: 'lock acquire',
    denied: 'SET',
    line: 6,
    call: (ns) => ({ keys: [lockKey(ns)], args: [OWNER, 60_000] }),
  },
  {
    script: scripts.refreshLock,
    operation: 'lock refresh',
    denied: 'PEXPIRE',
    line: 4,
    prepare: holdLock,
    call: (ns) => ({ keys: [lockKey(ns)], args: [OWNER, 60_000] }),
  },
  {
    script: scripts.releaseLock,
    operation: 'lock release',
    denied: 'LPUSH',
    line: 6,
    prepare: holdLock,
    call: (ns) => ({ keys: [lockKey(ns), `${lockKey(ns)}:notify`], args: [OWNER, 60_000] }),
  },
  {
    script: scripts.commitOffset,
    operation: 'offset commit',
    denied: 'SET',
    line: 8,
    prepare: holdLock,
    call: (ns) => ({ keys: [lockKey(ns), `${ns}:redstream:offset:products:indexer`], args: [OWNER, '1-0', 60_000] }),
  },
  {
    script: scripts.deliverDelayed,
    operation: 'delayer move (re-queueing due delay messages)',
    denied: 'XRANGE',
    line: 17,
    prepare: holdLock,
    call: (ns) => ({
      keys: [
        `${ns}:redstream:stream:products`,
        `${ns}:redstream:stream:products.delay`,
        lockKey(ns),
        `${ns}:redstream:offset:products.delay:delayer`,
      ],
      args: [OWNER, 60_000, '1-0', '1-0', '{"id":1}'],
    }),
  },
  {
    script: scripts.trimWithGroups,
    operation: 'trim',
    denied: 'XTRIM',
    line: 141,
    prepare: async (admin, ns) => {
      await admin.xadd(`${ns}:redstream:stream:products`, '1-0', 'payload', '{}');
      await admin.sadd(`${ns}:redstream:consumers:products`, 'indexer');
      await admin.set(`${ns}:redstream:offset:products:indexer`, '1-0');
    },
    call: (ns) => ({
      keys: [
        `${ns}:redstream:stream:products`,
        `${ns}:redstream:consumers:products`,
        `${ns}:redstream:offset:products:indexer`,
      ],
      args: [1, 'trim', 'indexer'],
    }),
  },
  {
    script: scripts.serverTime,
    operation: 'server time read',
    denied: 'TIME',
    line: 4,
    call: (ns) => ({ keys: [`${ns}:redstream:stream:products`], args: [] }),
  },
];

function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

describe('script errors name the operation', () => {
  it('every script calls at most one Redis command per line, so a line names its command', () => {
    const crowded = Object.values(scripts).flatMap((script) =>
      script.source
        .split('\n')
        .map((_, index) => ({ script: script.name, line: index + 1, commands: script.commandsAt(index + 1) }))
        .filter(({ commands }) => commands.length > 1),
    );
    expect(crowded).toEqual([]);
    // The cases below deny a command on the line they name.
    for (const { script, denied, line } of CASES) expect(script.commandsAt(line)).toEqual([denied]);
  });

  describe('under an ACL user that lacks one command', () => {
    const password = 'script-acl-secret';
    let admin: Redis;
    let user: string;
    let namespace: string;
    let client: Redis | undefined;

    beforeEach(() => {
      admin = connectTestRedis();
      user = uniqueNamespace('script-acl-user');
      namespace = uniqueNamespace('script-acl');
    });

    afterEach(async () => {
      client?.disconnect();
      client = undefined;
      await admin.call('ACL', 'DELUSER', user);
      admin.disconnect();
    });

    /** A connection as `user`, with the documented ACL line minus `+<denied>` (all of it without). */
    async function connectWithout(denied?: string): Promise<Redis> {
      const rule = documentedAclRule(user, password, namespace).filter((part) => part !== `+${denied}`);
      await admin.call('ACL', 'SETUSER', user, ...rule);
      const { port, hostname } = new URL(testRedisUrl());
      client = new Redis({ host: hostname, port: Number(port), username: user, password, maxRetriesPerRequest: 1 });
      return client;
    }

    it.each(CASES.map((c) => [c.script.name, c.denied.toLowerCase(), c] as const))(
      '%s without +%s: a RedstreamPermissionError naming the operation, the command and the rule to add',
      async (_, rule, scriptCase) => {
        const restricted = await connectWithout(rule);
        await scriptCase.prepare?.(admin, namespace);
        const { keys, args } = scriptCase.call(namespace);
        const error = await rejection(scriptCase.script.run(restricted, keys, args));

        expect(error).toBeInstanceOf(RedstreamPermissionError);
        expect(error).toBeInstanceOf(RedstreamScriptError);
        expect(error).toBeInstanceOf(RedstreamConnectionError);
        expect(error).toMatchObject({
          operation: scriptCase.operation,
          script: scriptCase.script.name,
          failure: 'acl-command',
          line: scriptCase.line,
          command: scriptCase.denied,
          deniedCommand: scriptCase.denied,
          aclRule: `+${rule}`,
        });
        expect(error.message).toBe(
          `${scriptCase.operation} failed (${scriptCase.script.name}.lua line ${scriptCase.line}, ${scriptCase.denied}): ` +
            `the Redis ACL user may not run ${scriptCase.denied}; add +${rule} to its ACL line. ` +
            `Redis replied: ${(error.cause as Error).message}`,
        );
        expect((error.cause as Error).message).toMatch(/can't run this command/);
      },
    );

    it('names EVALSHA itself when the user may not run it', async () => {
      const restricted = await connectWithout('evalsha');
      const error = await rejection(scripts.acquireLock.run(restricted, [lockKey(namespace)], [OWNER, 1_000]));
      expect(error).toBeInstanceOf(RedstreamPermissionError);
      expect(error).toMatchObject({ operation: 'lock acquire', deniedCommand: 'EVALSHA', aclRule: '+evalsha' });
      expect(error.message).toMatch(/^lock acquire failed \(acquire-lock\.lua, EVALSHA\): .*add \+evalsha/);
    });

    it('names the key pattern to add when a key is outside the namespace', async () => {
      const restricted = await connectWithout();
      const outside = `elsewhere:redstream:lock:consumer:products:indexer`;
      const error = await rejection(scripts.acquireLock.run(restricted, [outside], [OWNER, 1_000]));
      expect(error).toBeInstanceOf(RedstreamPermissionError);
      expect(error).toMatchObject({ operation: 'lock acquire', failure: 'acl-key', aclRule: '~elsewhere:redstream:*' });
      expect(error.message).toMatch(
        /may not access the keys elsewhere:redstream:lock:\S+; add ~elsewhere:redstream:\*/,
      );
    });

    it('the Delayer without +xrange logs an error naming the delayer move, XRANGE and +xrange', async () => {
      await connectWithout('xrange');
      const { port, hostname } = new URL(testRedisUrl());
      const logger = new RecordingLogger();
      const redstream = new Redstream({ redis: `redis://${user}:${password}@${hostname}:${port}`, namespace, logger });
      try {
        const delayer = redstream.delayer({ stream: 'products', delay: 10, blockMs: 200, backoffInitialMs: 20 });
        const failures: Error[] = [];
        delayer.on('failed', (error) => failures.push(error));
        await redstream.producer({ commandTimeoutMs: 2_000 }).delay('products', { id: 1 });
        delayer.start();
        await waitFor(() => logger.matching('error', /delayer move/).length > 0, 10_000);
        await delayer.stop();

        expect(logger.matching('error', /delayer move/)[0].message).toMatch(
          /^Delayer.*: delayer move \(re-queueing due delay messages\) failed \(deliver-delayed\.lua line 17, XRANGE\): the Redis ACL user may not run XRANGE; add \+xrange to its ACL line\./,
        );
        expect(failures[0]).toBeInstanceOf(RedstreamPermissionError);
        expect(await redstream.delayStreamLength('products')).toBe(1);
      } finally {
        await redstream.close();
      }
    });
  });

  describe('on a server of their own', () => {
    let primary: RedisServerHandle;
    let admin: Redis;
    const namespace = 'script-errors';

    beforeAll(async () => {
      primary = await startRedisServer();
      admin = new Redis(primary.port, { maxRetriesPerRequest: 1 });
    });

    afterAll(async () => {
      admin.disconnect();
      await primary.stop();
    });

    it('out of memory (maxmemory 1, noeviction): the offset commit and the lock acquire say so', async () => {
      await holdLock(admin, namespace);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
      const logger = new RecordingLogger();
      const redstream = new Redstream({ redis: primary.url, namespace: 'script-errors-oom', logger });
      try {
        const { keys, args } = CASES.find((c) => c.script === scripts.commitOffset)!.call(namespace);
        const error = await rejection(scripts.commitOffset.run(admin, keys, args));
        expect(error).toBeInstanceOf(RedstreamScriptError);
        expect(error).not.toBeInstanceOf(RedstreamPermissionError);
        expect(error).toMatchObject({ operation: 'offset commit', failure: 'out-of-memory', line: 8, command: 'SET' });
        expect(error.message).toMatch(
          /^offset commit failed \(commit-offset\.lua line 8, SET\): Redis is out of memory .*raise maxmemory\. Redis replied: OOM /,
        );

        // Through the engine: a consumer cannot take its lock, and the log says why.
        const consumer = redstream.consumer({ stream: 'products', name: 'indexer', handler: () => undefined });
        consumer.start();
        await waitFor(() => logger.matching('error', /lock acquire failed/).length > 0, 10_000);
        await consumer.stop();
        expect(logger.matching('error', /lock acquire failed/)[0].message).toMatch(
          /^Consumer products:indexer: lock acquire failed \(acquire-lock\.lua line 6, SET\): Redis is out of memory/,
        );
      } finally {
        await admin.config('SET', 'maxmemory', '0');
        await redstream.close();
      }
    });

    it('a read-only replica: the lock acquire says to connect to the primary', async () => {
      const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
      const client = new Redis(replica.port, { maxRetriesPerRequest: 1 });
      const redstream = new Redstream({ redis: replica.url, namespace, logger: new RecordingLogger() });
      try {
        const error = await rejection(scripts.acquireLock.run(client, [lockKey('elsewhere')], [OWNER, 1_000]));
        expect(error).toBeInstanceOf(RedstreamScriptError);
        expect(error).toMatchObject({ operation: 'lock acquire', failure: 'read-only', line: 6, command: 'SET' });
        expect(error.message).toMatch(
          /^lock acquire failed \(acquire-lock\.lua line 6, SET\): the server is a read-only replica; connect to the primary\. Redis replied: READONLY /,
        );

        // Through the engine: a trim needs the trimmer's lock first.
        const trimmer = redstream.trimmer({ stream: 'products', consumerNames: ['indexer'] });
        const trimError = await rejection(trimmer.trimOnce());
        expect(trimError).toBeInstanceOf(RedstreamScriptError);
        expect(trimError.message).toMatch(/^lock acquire failed .*read-only replica/);
        await trimmer.stop();
      } finally {
        client.disconnect();
        await redstream.close();
        await replica.stop();
      }
    });
  });
});
