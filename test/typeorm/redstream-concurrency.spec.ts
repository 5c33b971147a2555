import { Redstream, silentLogger } from '../../lib/engine';
import { RedstreamSubscriber } from '../../lib/typeorm';
import { testRedisUrl, uniqueNamespace } from '../support/test-redis';
import { delayPayloads, streamPayloads } from './support/redstream-test-streams';
import { openTestDatabase, postgresAvailable, TestDatabase } from './support/typeorm-test-data-source';
import { Product } from './support/typeorm-test-entities';

class Rollback extends Error {}

/** Concurrent transactions need a pool of connections: PostgreSQL (sql.js has one connection). */
(postgresAvailable() ? describe : describe.skip)('concurrent PostgreSQL transactions', () => {
  let database: TestDatabase;
  let redstream: Redstream;
  let subscriber: RedstreamSubscriber;

  beforeAll(async () => {
    database = await openTestDatabase('postgres');
  });
  afterAll(() => database.close());
  beforeEach(() => {
    redstream = new Redstream({ redis: testRedisUrl(), namespace: uniqueNamespace('typeorm'), logger: silentLogger });
    subscriber = new RedstreamSubscriber(redstream.producer()).attach(database.dataSource);
  });
  afterEach(async () => {
    subscriber.detach(database.dataSource);
    await redstream.close();
  });

  it('keep their messages apart: one commits while the other is open, then rolls back', async () => {
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstSaved!: () => void;
    const firstHasSaved = new Promise<void>((resolve) => (firstSaved = resolve));
    let firstId = 0;

    const first = database.dataSource.transaction(async (manager) => {
      firstId = (await manager.save(Product, { name: 'first, rolled back' })).id;
      firstSaved();
      await firstMayFinish;
      throw new Rollback();
    });
    await firstHasSaved;
    const second = await database.dataSource.transaction((manager) => manager.save(Product, { name: 'second' }));
    expect(await streamPayloads(redstream, 'products')).toEqual([{ id: second.id }]);

    releaseFirst();
    await expect(first).rejects.toBeInstanceOf(Rollback);
    expect(await streamPayloads(redstream, 'products')).toEqual([{ id: second.id }]);
    expect(await delayPayloads(redstream, 'products')).toEqual([{ id: firstId }, { id: second.id }]);
  });

  it('write exactly the committed records, each once, among many interleaved transactions', async () => {
    const committed: number[] = [];
    const attempts = Array.from({ length: 24 }, (_, index) =>
      database.dataSource
        .transaction(async (manager) => {
          const saved = await manager.save(Product, [{ name: `t${index}a` }, { name: `t${index}b` }]);
          await new Promise((resolve) => setTimeout(resolve, (index * 7) % 20));
          saved[0].featured = true;
          await manager.save(Product, saved[0]);
          if (index % 3 === 0) throw new Rollback();
          return saved.map((product) => product.id);
        })
        .then(
          (ids) => committed.push(...ids),
          (error: unknown) => {
            if (!(error instanceof Rollback)) throw error;
          },
        ),
    );
    await Promise.all(attempts);

    const queued = (await streamPayloads(redstream, 'products')).map((payload) => payload.id as number);
    expect(queued.length).toBe(committed.length);
    expect([...queued].sort((a, b) => a - b)).toEqual([...committed].sort((a, b) => a - b));
    expect(committed).toHaveLength(32);
    expect(await delayPayloads(redstream, 'products')).toHaveLength(24 * 3);
  });
});
