import { Injectable, INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { readFileSync } from 'node:fs';
import { Producer, Redstream, RedstreamConsumer, RedstreamModule, RedstreamRegistry } from '../../lib';
import { RedstreamDashboardModule, RedstreamDashboardOptions } from '../../lib/dashboard';
import { FAST_WORKERS } from '../nest/nest-test-helpers';
import { testRedisUrl, uniqueNamespace, waitFor } from '../support/test-redis';

export type HttpPlatform = 'express' | 'fastify';

function majorVersion(packageName: string): number {
  const manifest = JSON.parse(readFileSync(require.resolve(`${packageName}/package.json`), 'utf8')) as {
    version: string;
  };
  return Number(manifest.version.split('.')[0]);
}

/**
 * Why Fastify cannot be tested here, if it cannot: under `npm run test:nest12` the Nest packages
 * are NestJS 12 and no Fastify platform of that major is installed (scripts/nest12/package.json),
 * and the root's would mix majors. It is loaded only when a test asks for it.
 */
export function fastifyUnavailable(): string | undefined {
  try {
    const [core, fastify] = [majorVersion('@nestjs/core'), majorVersion('@nestjs/platform-fastify')];
    return core === fastify ? undefined : `@nestjs/platform-fastify ${fastify} does not match @nestjs/core ${core}`;
  } catch (error) {
    return `@nestjs/platform-fastify is not installed (${(error as Error).message.split('\n')[0]})`;
  }
}

/** The platforms the dashboard is tested on here, each with the reason it is skipped, if it is. */
export const HTTP_PLATFORMS: [platform: HttpPlatform, skipped: string | undefined][] = [
  ['express', undefined],
  ['fastify', fastifyUnavailable()],
];

export const ORDERS = 'orders';
export const INDEXER = 'indexer';

/** The consumer the dashboard shows: counts what it handled, optionally slowly. */
@Injectable()
export class OrdersIndexer {
  handled = 0;
  delayMs = 0;

  @RedstreamConsumer({ stream: ORDERS, name: INDEXER, batchSize: 20 })
  async index(messages: unknown[]): Promise<void> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.handled += messages.length;
  }
}

export interface DashboardTestApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  url: string;
  namespace: string;
  producer: Producer;
  redstream: Redstream;
  registry: RedstreamRegistry;
  indexer: OrdersIndexer;
  /**
   * Stops the indexer and waits until no instance holds its lock: under load its lock may be
   * taken just after stop() returned (stop does not wait for a lock request in flight), and
   * lapses within its ttl.
   */
  stopIndexer(): Promise<void>;
}

export interface DashboardTestAppOptions {
  platform?: HttpPlatform;
  dashboard?: RedstreamDashboardOptions;
  /** Without the consumer: a process that only produces and shows. */
  withIndexer?: boolean;
  globalPrefix?: string;
  imports?: ModuleMetadata['imports'];
  providers?: ModuleMetadata['providers'];
}

/** An application with RedstreamModule, the orders indexer and the dashboard, listening on a free port. */
export async function startDashboardApp(options: DashboardTestAppOptions = {}): Promise<DashboardTestApp> {
  const namespace = uniqueNamespace('dashboard');
  const moduleRef = await Test.createTestingModule({
    imports: [
      RedstreamModule.forRoot({
        redis: testRedisUrl(),
        namespace,
        logger: false,
        consumerDefaults: FAST_WORKERS,
        trimmer: false,
      }),
      RedstreamDashboardModule.forRoot(options.dashboard),
      ...(options.imports ?? []),
    ],
    providers: [...(options.withIndexer === false ? [] : [OrdersIndexer]), ...(options.providers ?? [])],
  }).compile();
  const app =
    options.platform === 'fastify'
      ? moduleRef.createNestApplication(new (await import('@nestjs/platform-fastify')).FastifyAdapter(), {
          logger: false,
          forceCloseConnections: true,
        })
      : moduleRef.createNestApplication({ logger: false, forceCloseConnections: true });
  if (options.globalPrefix) app.setGlobalPrefix(options.globalPrefix);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const redstream = app.get(Redstream);
  const registry = app.get(RedstreamRegistry);
  const stopIndexer = async (): Promise<void> => {
    await registry.stop(ORDERS, INDEXER);
    await waitFor(async () => {
      const { streams } = await redstream.status({ streams: [ORDERS] });
      return streams[0]?.consumers.every((consumer) => !consumer.active);
    });
  };
  return {
    app,
    stopIndexer,
    url: `http://127.0.0.1:${address.port}`,
    namespace,
    producer: app.get(Producer),
    redstream,
    registry,
    indexer: options.withIndexer === false ? new OrdersIndexer() : app.get(OrdersIndexer),
  };
}
