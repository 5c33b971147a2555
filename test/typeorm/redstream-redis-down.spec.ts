import { Redstream, silentLogger } from '../../lib/engine';
import { RedstreamDelayWriteError, RedstreamSubscriber } from '../../lib/typeorm';
import { RedisServerHandle, startRedisServer } from '../support/redis-server';
import { RecordingLogger } from './support/redstream-test-streams';
import { openTestDatabase, testDatabaseKinds, TestDatabase } from './support/typeorm-test-data-source';
import { Product } from './support/typeorm-test-entities';

const databases = testDatabaseKinds();
const COMMAND_TIMEOUT_MS = 1_000;

describe.each(databases)('Redis down while a %s transaction writes', (kind) => {
  let database: TestDatabase;
  let server: RedisServerHandle;
  let redstream: Redstream;
  let logger: RecordingLogger;
  let subscriber: RedstreamSubscriber | undefined;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(() => database.close());

  beforeEach(async () => {
    server = await startRedisServer();
    redstream = new Redstream({ redis: server.url, logger: silentLogger });
    logger = new RecordingLogger();
  });
  afterEach(async () => {
    subscriber?.detach(database.dataSource);
    await redstream.close();
    await server.stop();
  });

  const products = () => database.dataSource.getRepository(Product);

  it('fails the database write with a clear error, so that no change escapes the stream', async () => {
    const producer = redstream.producer({ commandTimeoutMs: COMMAND_TIMEOUT_MS });
    subscriber = new RedstreamSubscriber(producer, { logger }).attach(database.dataSource);
    const before = await products().save({ name: 'written while Redis is up' });
    expect(await redstream.streamLength('products')).toBe(1);
    await server.stop();

    const started = Date.now();
    const write = products().save({ name: 'written while Redis is down' });
    await expect(write).rejects.toBeInstanceOf(RedstreamDelayWriteError);
    await expect(write).rejects.toThrow(/delay message of Product .* stream "products".* rolled back/);
    expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS + 4_000);
    expect(await products().findOneBy({ name: 'written while Redis is down' })).toBeNull();
    expect(await products().findOneBy({ id: before.id })).not.toBeNull();
  });

  it("with onDelayError: 'log', commits the write and logs both failed messages", async () => {
    const producer = redstream.producer({ commandTimeoutMs: COMMAND_TIMEOUT_MS });
    subscriber = new RedstreamSubscriber(producer, { logger, onDelayError: 'log' }).attach(database.dataSource);
    await server.stop();

    const saved = await products().save({ name: 'committed without messages' });
    expect(await products().findOneBy({ id: saved.id })).not.toBeNull();
    expect(logger.errors).toEqual([expect.stringMatching(/delay message of Product/)]);
    expect(logger.warnings).toEqual([expect.stringMatching(/immediate message\(s\) to stream "products"/)]);
  });
});
