import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { TestingModule } from '@nestjs/testing';
import {
  Producer,
  Redstream,
  RedstreamConsumer,
  RedstreamDelayer,
  RedstreamGroupConsumer,
  RedstreamMessage,
  RedstreamModuleOptions,
  RedstreamRegistry,
} from '../../lib';
import { RedstreamHealthDetails, RedstreamHealthIndicator, RedstreamHealthOptions } from '../../lib/terminus';
import { compileRedstreamApp } from '../nest/nest-test-helpers';
import { freePort, RedisServerHandle, startRedisServer } from '../support/redis-server';
import { uniqueNamespace, waitFor } from '../support/test-redis';

@Injectable()
class ProductIndexer {
  @RedstreamConsumer({ stream: 'products', name: 'indexer' })
  index(): void {
    // Keeps up.
  }
}

@Injectable()
class ProductDelayer {
  @RedstreamDelayer({ stream: 'products', delay: '10s' })
  due(): void {
    // Re-queued by the engine.
  }
}

@Injectable()
class SearchGroup {
  @RedstreamGroupConsumer({ stream: 'products', group: 'search' })
  work(): void {
    // Keeps up.
  }
}

@Injectable()
class FailingIndexer {
  @RedstreamConsumer({ stream: 'orders', name: 'failing', stalledAfterMs: 300 })
  index(): void {
    throw new Error('search index down');
  }
}

/** Takes one entry per batch and holds it until released, so that the rest waits. */
@Injectable()
class GatedIndexer {
  private readonly gate = new Promise<void>((resolve) => openGates.push(resolve));
  batches = 0;

  @RedstreamConsumer({ stream: 'orders', name: 'gated', batchSize: 1 })
  async index(messages: RedstreamMessage[]): Promise<void> {
    this.batches += messages.length;
    await this.gate;
  }
}

/** Opened after each test, so that a held batch lets its app close. */
const openGates: (() => void)[] = [];
const apps: TestingModule[] = [];
const servers: RedisServerHandle[] = [];

afterEach(async () => {
  for (const open of openGates.splice(0)) open();
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(servers.splice(0).map((server) => server.kill()));
});

async function startApp(providers: (new () => object)[], options: RedstreamModuleOptions = {}): Promise<TestingModule> {
  const app = await compileRedstreamApp({
    imports: [TerminusModule.forRoot({ logger: false })],
    providers: [RedstreamHealthIndicator, ...providers],
    options: { drainTimeoutMs: 1_000, ...options },
  });
  apps.push(app);
  await app.init();
  return app;
}

/** What `HealthCheckService.check` answers, as the HTTP body (200 or 503). */
async function check(app: TestingModule, options?: RedstreamHealthOptions): Promise<HealthCheckResult> {
  const indicator = app.get(RedstreamHealthIndicator);
  try {
    return await app.get(HealthCheckService).check([() => indicator.isHealthy('redstream', options)]);
  } catch (error) {
    if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
    throw error;
  }
}

function details(result: HealthCheckResult): RedstreamHealthDetails & { status: string } {
  return result.details.redstream as unknown as RedstreamHealthDetails & { status: string };
}

function allActive(app: TestingModule): boolean {
  const registry = app.get(RedstreamRegistry);
  return [...registry.consumers(), ...registry.delayers(), ...registry.groupConsumers()].every(
    (worker) => worker.isActive,
  );
}

describe('RedstreamHealthIndicator with @nestjs/terminus', () => {
  it('is up when Redis answers and every handler is active and keeps up', async () => {
    const app = await startApp([ProductIndexer, ProductDelayer, SearchGroup]);
    await waitFor(() => allActive(app));
    await app.get(Producer).queue('products', [{ id: 1 }, { id: 2 }]);
    await waitFor(async () => (await app.get(RedstreamRegistry).redstream.lag('products', 'indexer')).entries === 0);

    const result = await check(app, { maxLagEntries: 100, maxLagMs: 60_000 });

    expect(result.status).toBe('ok');
    expect(details(result)).toMatchObject({
      status: 'up',
      redis: { reachable: true },
      handlers: { total: 3, active: 3, standby: 0 },
      failing: [],
    });
  });

  it('is down when Redis does not answer', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const app = await startApp([ProductIndexer], { redis: server.url });
    await waitFor(() => allActive(app));
    expect((await check(app)).status).toBe('ok');

    await server.kill();
    const result = await check(app, { timeoutMs: 500 });

    expect(result.status).toBe('error');
    expect(details(result)).toMatchObject({ status: 'down', redis: { reachable: false } });
    expect(details(result).redis.error).toMatch(/\w/);
  });

  it('names a stalled consumer, with its stream, name and why', async () => {
    const app = await startApp([ProductIndexer, FailingIndexer]);
    await app.get(Producer).queue('orders', { id: 1 });
    const failing = app.get(RedstreamRegistry).getConsumer('orders', 'failing');
    await waitFor(() => failing?.isStalled, 15_000);

    const result = await check(app);

    expect(result.status).toBe('error');
    expect(details(result).redis.reachable).toBe(true);
    expect(details(result).failing).toEqual([
      {
        kind: 'consumer',
        stream: 'orders',
        name: 'failing',
        reasons: [expect.stringMatching(/^stalled since \d{4}-/)],
      },
    ]);
  });

  it('is down when a handler is further behind than maxLagEntries or maxLagMs, and up without thresholds', async () => {
    const app = await startApp([GatedIndexer]);
    await app.get(Producer).queue(
      'orders',
      Array.from({ length: 20 }, (_, id) => ({ id })),
    );
    await waitFor(() => app.get(GatedIndexer).batches > 0);

    const byCount = await check(app, { maxLagEntries: 5 });
    expect(byCount.status).toBe('error');
    expect(details(byCount).failing).toEqual([
      {
        kind: 'consumer',
        stream: 'orders',
        name: 'gated',
        reasons: [expect.stringMatching(/^\d+ entries waiting, more than maxLagEntries 5$/)],
      },
    ]);

    const byAge = await waitFor(async () => {
      const result = await check(app, { maxLagEntries: 1_000, maxLagMs: 200 });
      return result.status === 'error' ? result : undefined;
    });
    expect(details(byAge).failing[0].reasons).toEqual([
      expect.stringMatching(/^oldest waiting entry is \d+ ms old, more than maxLagMs 200$/),
    ]);

    expect((await check(app)).status).toBe('ok');
  });

  it('counts a standby of a live owner elsewhere as healthy, and a stopped handler as failing', async () => {
    const namespace = uniqueNamespace('health');
    const owner = await startApp([ProductIndexer], { namespace });
    await waitFor(() => allActive(owner));
    const standby = await startApp([ProductIndexer], { namespace });
    const standbyIndexer = standby.get(RedstreamRegistry).getConsumer('products', 'indexer');
    expect(standbyIndexer?.isRunning).toBe(true);

    const result = await check(standby);

    expect(standbyIndexer?.isActive).toBe(false);
    expect(result.status).toBe('ok');
    expect(details(result).handlers).toEqual({ total: 1, active: 0, standby: 1 });

    await standby.get(RedstreamRegistry).stop('products', 'indexer');
    const stopped = await check(standby);
    expect(stopped.status).toBe('error');
    expect(details(stopped).failing).toEqual([
      { kind: 'consumer', stream: 'products', name: 'indexer', reasons: [expect.stringMatching(/^not running/)] },
    ]);
  });

  it('names a stopped group consumer by its group and a stopped delayer as delayer', async () => {
    const app = await startApp([SearchGroup, ProductDelayer]);
    await waitFor(() => allActive(app));
    const registry = app.get(RedstreamRegistry);
    await registry.stop('products', 'search');
    await registry.stop('products', 'delayer');

    const stopped = await check(app);

    expect(details(stopped).failing).toEqual([
      { kind: 'delayer', stream: 'products', name: 'delayer', reasons: [expect.stringMatching(/^not running/)] },
      { kind: 'group-consumer', stream: 'products', name: 'search', reasons: [expect.stringMatching(/^not running/)] },
    ]);
  });

  it('rejects a threshold that is not a positive number', async () => {
    const app = await startApp([]);
    await expect(app.get(RedstreamHealthIndicator).isHealthy('redstream', { maxLagMs: -1 })).rejects.toThrow(
      /maxLagMs must be a positive number/,
    );
  });
});

describe('RedstreamHealthIndicator on a terminus without HealthIndicatorService (terminus 10)', () => {
  it('throws a down result as the HealthCheckError terminus 10 recognises: isHealthCheckError and causes', async () => {
    let Indicator: typeof RedstreamHealthIndicator | undefined;
    jest.isolateModules(() => {
      jest.doMock('@nestjs/terminus', () => ({
        ...jest.requireActual<Record<string, unknown>>('@nestjs/terminus'),
        HealthIndicatorService: undefined,
      }));
      // A fresh copy of the entry point, loaded against the terminus above.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      Indicator = (require('../../lib/terminus') as typeof import('../../lib/terminus')).RedstreamHealthIndicator;
    });
    jest.dontMock('@nestjs/terminus');
    const redstream = new Redstream({ redis: `redis://127.0.0.1:${await freePort()}`, logger: false });
    try {
      // The registry of an app without handlers: only the PING decides.
      const registry = { redstream, handlerEntries: () => [], trimmers: () => [] } as unknown as RedstreamRegistry;
      const indicator = new Indicator!(registry);

      const error = await indicator.isHealthy('redstream', { timeoutMs: 300 }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );

      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        isHealthCheckError: true,
        message: 'Redstream is unhealthy: Redis unreachable',
        causes: { redstream: { status: 'down', redis: { reachable: false }, failing: [] } },
      });
    } finally {
      await redstream.close();
    }
  });
});
