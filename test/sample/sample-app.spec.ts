import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import request from 'supertest';
import type { RedstreamDashboardStatus } from '../../lib/dashboard';
import { redstreamTesting } from '../../lib/testing';
import { AppModule } from '../../sample/src/app.module';
import type { HealthCheckResult } from '@nestjs/terminus';
import { RedstreamRegistry } from '../../lib';
import type { Product } from '../../sample/src/products/product.entity';
import { INDEXER_CONSUMER, PRODUCTS_STREAM } from '../../sample/src/products/products.constants';
import { ProductsService } from '../../sample/src/products/products.service';
import { SampleConfig, sampleConfigFromEnv } from '../../sample/src/sample-config';
import type { SearchHit } from '../../sample/src/search/search-index.service';
import type { SampleStatus } from '../../sample/src/status/status.controller';
import { connectTestRedis, testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

// The sample app end to end: HTTP -> primary database + Producer -> Redis -> indexer -> search
// index, against the suite's real Redis, each app in a namespace of its own.

function sampleConfig(overrides: Partial<SampleConfig> = {}): SampleConfig {
  return {
    redisUrl: testRedisUrl(),
    namespace: uniqueNamespace('sample'),
    port: 0,
    host: '127.0.0.1',
    dataDir: undefined,
    delayMs: 60_000,
    demoFailure: false,
    trimIntervalMs: 300,
    lockTtlMs: 1_000,
    quiet: true,
    ...overrides,
  };
}

const apps: INestApplication[] = [];

async function startApp(config: SampleConfig): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(config)] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  apps.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function search(app: INestApplication, query: string): Promise<SearchHit[]> {
  const response = await request(app.getHttpServer()).get(`/search?${query}`).expect(200);
  return response.body as SearchHit[];
}

async function create(
  app: INestApplication,
  product: Record<string, unknown>,
  query = '',
): Promise<Product & { healsAfterDelay: boolean }> {
  const response = await request(app.getHttpServer()).post(`/products${query}`).send(product).expect(201);
  return response.body as Product & { healsAfterDelay: boolean };
}

describe('sample app', () => {
  it('keeps the search index in sync through create, bulk update, update and delete', async () => {
    // A delay of a minute: whatever reaches the index during this test came by the immediate path.
    const config = sampleConfig();
    const app = await startApp(config);
    const http = request(app.getHttpServer());

    const chair = await create(app, { name: 'Oak chair', description: 'Solid oak, seats one', price: 120 });
    const table = await create(app, { name: 'Oak table', description: 'Seats six', price: 900 });
    expect(chair).toMatchObject({ id: expect.any(Number), name: 'Oak chair', featured: false, healsAfterDelay: false });

    // The messages are in Redis once the responses came: drain() waits for the indexer to handle them.
    await redstreamTesting.drain(app, PRODUCTS_STREAM, INDEXER_CONSUMER, { timeoutMs: 15_000 });
    expect((await search(app, 'q=oak')).map((hit) => hit.name)).toEqual(['Oak chair', 'Oak table']);
    expect(await search(app, 'q=chai')).toEqual([expect.objectContaining({ id: chair.id })]);

    const bulk = await http
      .post('/products/bulk-update')
      .send({ ids: [chair.id, table.id, 9999], set: { featured: true } })
      .expect(200);
    expect(bulk.body).toEqual({ updated: [chair.id, table.id], healsAfterDelay: false });
    await redstreamTesting.drain(app, PRODUCTS_STREAM, INDEXER_CONSUMER, { timeoutMs: 15_000 });
    expect(await search(app, 'featured=true')).toHaveLength(2);

    const patched = await http.patch(`/products/${table.id}`).send({ price: 850, description: 'Seats eight' });
    // Version 1 on insert, 2 by the bulk UPDATE (TypeORM adds "version + 1"), 3 by save().
    expect(patched.body).toMatchObject({ id: table.id, name: 'Oak table', price: 850, version: 3 });
    await waitFor(async () => (await search(app, 'q=eight'))[0]?.price === 850);

    await http.delete(`/products/${chair.id}`).expect(200);
    await waitFor(async () => (await search(app, 'q=chair')).length === 0);
    await http.get(`/products/${chair.id}`).expect(404);
    expect(await search(app, 'q=oak')).toEqual([
      expect.objectContaining({ id: table.id, price: 850, featured: true, description: 'Seats eight' }),
    ]);

    // The trimmer deletes what the indexer committed; the delay messages wait for their minute.
    const redis = connectTestRedis();
    try {
      const base = `${config.namespace}:redstream:stream:products`;
      await waitFor(async () => (await redis.xlen(base)) === 0, 10_000);
      expect(await redis.xlen(`${base}.delay`)).toBe(6);
    } finally {
      redis.disconnect();
    }
  });

  it('gives concurrent creates their own ids (sql.js has one connection: writes take turns)', async () => {
    const app = await startApp(sampleConfig());
    const names = Array.from({ length: 8 }, (_, index) => `Stool ${index}`);
    // Straight to the service: HTTP requests could arrive one after the other.
    const products = app.get(ProductsService);
    const created = await Promise.all(names.map((name) => products.create({ name, description: '', price: 10 })));

    expect(new Set(created.map((product) => product.id)).size).toBe(names.length);
    for (const product of created) {
      const stored = await request(app.getHttpServer()).get(`/products/${product.id}`).expect(200);
      expect(stored.body).toMatchObject({ id: product.id, name: product.name, version: 1 });
    }
    const indexed = await waitFor(async () => {
      const hits = await search(app, 'q=stool');
      return hits.length === names.length ? hits : undefined;
    });
    expect(indexed.map((hit) => hit.name).sort()).toEqual([...names].sort());
  });

  it('rejects invalid input and treats search words as words, not query syntax', async () => {
    const app = await startApp(sampleConfig());
    const http = request(app.getHttpServer());
    await http.post('/products').send({ price: 5 }).expect(400);
    await http.post('/products').send({ name: 'Lamp', price: -1 }).expect(400);
    await http.patch('/products/1').send({}).expect(400);
    await http.patch('/products/424242').send({ price: 1 }).expect(404);
    await http
      .post('/products/bulk-update')
      .send({ ids: [], set: { featured: true } })
      .expect(400);
    await create(app, { name: 'Brass lamp', description: 'Near the door or on the desk', price: 40 });
    await waitFor(async () => (await search(app, 'q=lamp')).length === 1);
    // Every word must match; operators and quotes are plain words or dropped, never syntax.
    expect(await search(app, `q=${encodeURIComponent('"lamp* OR NEAR(')}`)).toHaveLength(1);
    expect(await search(app, `q=${encodeURIComponent('brass NOT lamp')}`)).toEqual([]);
  });

  it('heals writes whose immediate message was lost once the delay has passed (DEMO_FAILURE)', async () => {
    const delayMs = 1_500;
    const app = await startApp(sampleConfig({ delayMs, demoFailure: true }));
    const http = request(app.getHttpServer());

    const started = Date.now();
    const desk = await create(app, { name: 'Walnut desk', price: 480 });
    expect(desk.healsAfterDelay).toBe(true);
    // ?simulateCrash=false overrides DEMO_FAILURE for one request: this one is indexed at once.
    const shelf = await create(app, { name: 'Walnut shelf', price: 150 }, '?simulateCrash=false');
    expect(shelf.healsAfterDelay).toBe(false);
    await waitFor(async () => (await search(app, 'q=shelf')).length === 1);
    expect(await search(app, 'q=desk')).toEqual([]);

    await waitFor(async () => (await search(app, 'q=desk')).length === 1, 10_000);
    // Delivered by the Delayer: not before its delay message was `delayMs` old.
    expect(Date.now() - started).toBeGreaterThanOrEqual(delayMs - 100);

    // A bulk update that "crashes" after its COMMIT: the primary has it, the index not yet.
    const bulk = await http.post('/products/bulk-update').send({ ids: [desk.id], set: { featured: true } });
    expect(bulk.body).toEqual({ updated: [desk.id], healsAfterDelay: true });
    expect((await http.get(`/products/${desk.id}`).expect(200)).body.featured).toBe(true);
    expect(await search(app, 'featured=true')).toEqual([]);
    await waitFor(async () => (await search(app, 'featured=true')).length === 1, 10_000);

    const status = (await http.get('/status').expect(200)).body as SampleStatus;
    expect(status).toMatchObject({ productsInPrimary: 2, productsInSearchIndex: 2, demoFailure: true, delayMs });
    expect(status.delayer.requeued).toBeGreaterThanOrEqual(3);
    expect(status.stream.indexerOffset).toMatch(/^\d+-\d+$/);
    expect(status.stream.delayLength).toBe(0);

    // The read-only dashboard at /redstream shows the same stream, and refuses actions.
    const dashboard = (await http.get('/redstream/api/status').expect(200)).body as RedstreamDashboardStatus;
    expect(dashboard.readOnly).toBe(true);
    expect(dashboard.streams).toEqual([
      expect.objectContaining({
        stream: PRODUCTS_STREAM,
        delayBacklog: expect.objectContaining({ entries: 0 }),
        consumers: expect.arrayContaining([
          expect.objectContaining({ name: INDEXER_CONSUMER, offset: status.stream.indexerOffset, active: true }),
        ]),
      }),
    ]);
    expect((await http.get('/redstream').expect(200)).text).toContain('/redstream/dashboard.js');
    await http
      .post('/redstream/api/rewind')
      .send({ stream: PRODUCTS_STREAM, consumer: INDEXER_CONSUMER, to: 'start' })
      .expect(403);
  });

  it('answers GET /health: 200 while the handlers work, 503 naming one that stopped', async () => {
    const app = await startApp(sampleConfig());
    const http = request(app.getHttpServer());
    // Up once the indexer and the delayer have taken their locks.
    const healthy = await waitFor(async () => {
      const response = await http.get('/health');
      return response.status === 200 ? (response.body as HealthCheckResult) : undefined;
    });
    expect(healthy).toMatchObject({
      status: 'ok',
      details: { redstream: { status: 'up', redis: { reachable: true } } },
    });
    expect(healthy.details.redstream).toMatchObject({ handlers: { total: 2, active: 2 }, failing: [] });

    await app.get(RedstreamRegistry).stop(PRODUCTS_STREAM, INDEXER_CONSUMER);
    const unhealthy = (await http.get('/health').expect(503)).body as HealthCheckResult;
    expect(unhealthy.status).toBe('error');
    expect(unhealthy.details.redstream.failing).toEqual([
      {
        kind: 'consumer',
        stream: PRODUCTS_STREAM,
        name: INDEXER_CONSUMER,
        reasons: [expect.stringMatching(/^not running/)],
      },
    ]);
  });

  it('keeps both databases in files across a restart, and a write that crashed heals after it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'redstream-sample-'));
    try {
      const config = sampleConfig({ dataDir, delayMs: 1_000 });
      const first = await startApp(config);
      const lamp = await create(first, { name: 'Paper lamp', price: 25 });
      await waitFor(async () => (await search(first, 'q=paper')).length === 1);
      const rug = await create(first, { name: 'Wool rug', price: 300 }, '?simulateCrash=true');
      expect(rug.healsAfterDelay).toBe(true);
      await apps.pop()?.close();

      // The "crashed" write is in the file (TypeORM saved it before the error reached the
      // service), and its delay message, still in Redis, brings it to the index after the restart.
      const second = await startApp(config);
      await request(second.getHttpServer()).get(`/products/${lamp.id}`).expect(200);
      await request(second.getHttpServer()).get(`/products/${rug.id}`).expect(200);
      expect(await search(second, 'q=paper')).toEqual([expect.objectContaining({ id: lamp.id })]);
      await waitFor(async () => (await search(second, 'q=wool')).length === 1, 10_000);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('opens a primary database file of the earlier sample, whose table has no version column', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'redstream-sample-'));
    try {
      const SQL = await initSqlJs();
      const old = new SQL.Database();
      old.run(`CREATE TABLE products (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '', price REAL NOT NULL, featured INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL)`);
      old.run(`INSERT INTO products (name, price, updated_at) VALUES ('Old bench', 70, '2025-01-02T03:04:05.000Z')`);
      writeFileSync(join(dataDir, 'primary.sqlite'), old.export());
      old.close();

      const app = await startApp(sampleConfig({ dataDir }));
      const bench = await request(app.getHttpServer()).get('/products/1').expect(200);
      expect(bench.body).toMatchObject({ name: 'Old bench', version: 1, updatedAt: '2025-01-02T03:04:05.000Z' });
      await request(app.getHttpServer()).patch('/products/1').send({ price: 65 }).expect(200);
      await waitFor(async () => (await search(app, 'q=bench'))[0]?.price === 65);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('sample app GET /metrics', () => {
  it('exports the redstream metrics as Prometheus text', async () => {
    const app = await startApp(sampleConfig());
    const chair = await create(app, { name: 'Metrics chair', description: 'Counted', price: 10 });
    await waitFor(async () => (await search(app, 'q=metrics'))[0]?.id === chair.id);

    const response = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.text;
    const line = (pattern: RegExp): string | undefined => text.split('\n').find((row) => pattern.test(row));
    // Produced: the immediate message and the delay message (the TypeORM subscriber writes both).
    expect(
      line(/^messaging_client_sent_messages_total\{.*messaging_destination_name="products".* [1-9]/),
    ).toBeDefined();
    expect(
      line(/^messaging_client_sent_messages_total\{.*messaging_destination_name="products.delay".* [1-9]/),
    ).toBeDefined();
    // Handled by the indexer, timed, and its instance active.
    const consumed = line(/^messaging_client_consumed_messages_total\{.*messaging_consumer_group_name="indexer"/);
    expect(consumed).toMatch(/messaging_destination_name="products"/);
    expect(consumed).toMatch(/ [1-9]\d*$/);
    expect(line(/^messaging_process_duration_count\{.*messaging_consumer_group_name="indexer".* [1-9]/)).toBeDefined();
    expect(line(/^redstream_process_latency_bucket\{/)).toBeDefined();
    expect(
      line(
        /^redstream_worker_active\{.*messaging_consumer_group_name="indexer".*redstream_worker_kind="consumer".* 1$/,
      ),
    ).toBeDefined();
    expect(line(/^redstream_worker_active\{.*redstream_worker_kind="delayer".* 1$/)).toBeDefined();
    expect(line(/^redstream_delay_backlog\{.*messaging_destination_name="products".* [1-9]/)).toBeDefined();
    expect(line(/^redstream_consumer_lag\{.*messaging_consumer_group_name="indexer"/)).toBeDefined();
  });
});

describe('sampleConfigFromEnv', () => {
  it('reads the environment with the documented defaults', () => {
    expect(sampleConfigFromEnv({})).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      namespace: 'redstream-sample',
      port: 3000,
      delayMs: 10_000,
      demoFailure: false,
      trimIntervalMs: 30_000,
    });
    expect(
      sampleConfigFromEnv({ SAMPLE_DATA_DIR: 'memory', SAMPLE_DELAY: '2s', DEMO_FAILURE: '1', PORT: '8080' }),
    ).toMatchObject({ dataDir: undefined, delayMs: 2_000, demoFailure: true, port: 8080 });
    expect(() => sampleConfigFromEnv({ PORT: 'eighty' })).toThrow(/PORT/);
  });
});
