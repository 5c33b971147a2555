import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { In } from 'typeorm';
import { Redstream, RedstreamMessage, silentLogger } from '../../lib/engine';
import { RedstreamSubscriber } from '../../lib/typeorm';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';
import { delayPayloads, streamPayloads } from './support/redstream-test-streams';
import { openTestDatabase, postgresAvailable, TestDatabase } from './support/typeorm-test-data-source';
import { Product } from './support/typeorm-test-entities';

const WORKER_TIMING = { lockTtlMs: 1_000, lockRefreshMs: 300, standbyPollMs: 100, blockMs: 200 };
const DELAY_MS = 300;

class SimulatedCrash extends Error {}

/**
 * The gem's reason for delay messages: a process that dies between the COMMIT and the
 * immediate message leaves a committed change without a message, and only the delay
 * message, re-queued by the Delayer, brings it to the consumers.
 */
describe('a crash between the commit and the immediate message', () => {
  let database: TestDatabase;
  let redstream: Redstream;
  let namespace: string;

  afterEach(async () => {
    await redstream?.close();
    await database?.close();
  });

  async function openRedstream(): Promise<void> {
    namespace = uniqueNamespace('typeorm-crash');
    redstream = new Redstream({ redis: testRedisUrl(), namespace, logger: silentLogger });
  }

  /** Runs a Delayer and an indexer that re-reads the database, until `name` reached the index. */
  async function healed(name: string): Promise<void> {
    const indexed: string[] = [];
    const indexer = redstream.consumer<{ id: number }>({
      stream: 'products',
      name: 'indexer',
      ...WORKER_TIMING,
      handler: async (messages: RedstreamMessage<{ id: number }>[]) => {
        const ids = messages.map((message) => message.payload.id);
        const current = await database.dataSource.getRepository(Product).findBy({ id: In(ids) });
        indexed.push(...current.map((product) => product.name));
      },
    });
    const delayer = redstream.delayer({ stream: 'products', delay: DELAY_MS, ...WORKER_TIMING });
    indexer.start();
    delayer.start();
    try {
      await waitFor(() => indexed.includes(name), 10_000);
    } finally {
      await Promise.all([indexer.stop(), delayer.stop()]);
    }
  }

  it('is healed by the delay message (sql.js, the crash simulated in process)', async () => {
    database = await openTestDatabase('sqljs');
    await openRedstream();
    // Listed before the RedstreamSubscriber, it throws first and so keeps it from running.
    database.dataSource.subscribers.push({
      afterTransactionCommit: () => {
        throw new SimulatedCrash();
      },
    });
    new RedstreamSubscriber(redstream.producer()).attach(database.dataSource);

    const product = database.dataSource.getRepository(Product).create({ name: 'sqljs crash' });
    await expect(database.dataSource.getRepository(Product).save(product)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(await database.dataSource.getRepository(Product).findOneBy({ name: 'sqljs crash' })).not.toBeNull();
    expect(await streamPayloads(redstream, 'products')).toEqual([]);
    expect(await delayPayloads(redstream, 'products')).toEqual([{ id: product.id }]);

    await healed('sqljs crash');
  });

  (postgresAvailable() ? it : it.skip)(
    'is healed by the delay message (PostgreSQL, a child process killed by SIGKILL after COMMIT)',
    async () => {
      database = await openTestDatabase('postgres');
      await openRedstream();
      const repositoryRoot = join(__dirname, '..', '..');
      const child = spawn(
        process.execPath,
        [
          '--require',
          join(repositoryRoot, 'test/support/ts-register.js'),
          join(__dirname, 'fixtures/crash-after-commit.child.ts'),
        ],
        {
          cwd: repositoryRoot,
          stdio: ['ignore', 'ignore', 'pipe'],
          env: {
            ...process.env,
            PG_SCHEMA: database.schema,
            REDIS_URL: testRedisUrl(),
            REDSTREAM_NAMESPACE: namespace,
            PRODUCT_NAME: 'postgres crash',
          },
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, exitSignal) => resolve(exitSignal)),
      );
      expect({ signal, stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });

      const product = await database.dataSource.getRepository(Product).findOneBy({ name: 'postgres crash' });
      expect(product).not.toBeNull();
      expect(await streamPayloads(redstream, 'products')).toEqual([]);
      expect(await delayPayloads(redstream, 'products')).toEqual([{ id: product?.id }]);

      await healed('postgres crash');
    },
  );
});
