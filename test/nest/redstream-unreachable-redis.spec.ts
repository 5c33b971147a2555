import { Injectable } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import {
  RedstreamConnectionError,
  RedstreamConsumer,
  RedstreamMessage,
  RedstreamModuleOptions,
  RedstreamRegistry,
} from '../../lib';
import { freePort } from '../support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';
import { testRedisUrl, waitFor } from '../support/test-redis';
import { compileRedstreamApp, RecordingLogger } from './nest-test-helpers';

@Injectable()
class IndexerA {
  readonly indexed: unknown[] = [];
  @RedstreamConsumer({ stream: 'products', name: 'indexer' })
  index(messages: RedstreamMessage[]): void {
    this.indexed.push(...messages);
  }
}

const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

interface UnreachableRedis {
  readonly url: string;
  /** The same address as ioredis options. */
  readonly options: RedisOptions;
  /** True once the workers have tried to reach it. */
  tried(logger: RecordingLogger): boolean;
  close(): Promise<void>;
}

/** Redis unreachable from the start: nothing listens on the port, or a blackhole that accepts and never answers. */
const unreachable: [string, () => Promise<UnreachableRedis>][] = [
  [
    'nothing listens on the port',
    async () => {
      const port = await freePort();
      return {
        url: `redis://127.0.0.1:${port}`,
        // Reconnecting slowly, as ioredis does after a while: a command then waits seconds to fail.
        options: { host: '127.0.0.1', port, retryStrategy: () => 3_000 },
        tried: (logger) => logger.errors.some((line) => line.includes('ECONNREFUSED')),
        close: async () => undefined,
      };
    },
  ],
  [
    'a blackhole accepts connections and never answers',
    async () => {
      const proxy = await TcpProxy.start(Number(new URL(testRedisUrl()).port));
      proxy.blackhole();
      return {
        url: proxy.url,
        options: { host: '127.0.0.1', port: proxy.port },
        tried: () => proxy.stats.connections > 0,
        close: () => proxy.close(),
      };
    },
  ],
];

describe('RedstreamModule with Redis unreachable', () => {
  it.each(unreachable)(
    'closes at once, without claiming a handler was running, when %s',
    async (_case, setUp) => {
      const redis = await setUp();
      const logger = new RecordingLogger();
      try {
        const app = await compileRedstreamApp({ providers: [IndexerA], options: { redis: redis.options, logger } });
        await app.init();
        const consumer = app.get(RedstreamRegistry).getConsumer('products', 'indexer');
        expect(consumer?.isRunning).toBe(true);
        await waitFor(() => redis.tried(logger));

        const startedAt = Date.now();
        await app.close();
        const elapsedMs = Date.now() - startedAt;

        expect(elapsedMs).toBeLessThan(DEFAULT_DRAIN_TIMEOUT_MS / 4);
        expect(logger.warnings.filter((line) => /drainTimeoutMs|IndexerA|Trimmer products/.test(line))).toEqual([]);
        expect(app.get(IndexerA).indexed).toEqual([]);
      } finally {
        await redis.close();
      }
    },
    20_000,
  );
});

describe('requireRedisAtBootstrap', () => {
  const timeoutMs = 1_000;

  it.each(unreachable)(
    'fails app.init() with a RedstreamConnectionError naming the masked connection when %s',
    async (_case, setUp) => {
      const redis = await setUp();
      try {
        const withPassword = redis.url.replace('redis://', 'redis://:s3cret@');
        const options: RedstreamModuleOptions = { redis: withPassword, requireRedisAtBootstrap: { timeoutMs } };
        const app = await compileRedstreamApp({ providers: [IndexerA], options });

        const startedAt = Date.now();
        const error = await app.init().then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(Date.now() - startedAt).toBeLessThan(timeoutMs + 2_000);
        expect(error).toBeInstanceOf(RedstreamConnectionError);
        const { message } = error as Error;
        expect(message).toContain(redis.url.replace('redis://', 'redis://***@'));
        expect(message).toContain('requireRedisAtBootstrap');
        expect(message).not.toContain('s3cret');
      } finally {
        await redis.close();
      }
    },
    20_000,
  );

  it('boots when Redis answers', async () => {
    const app = await compileRedstreamApp({ providers: [IndexerA], options: { requireRedisAtBootstrap: true } });
    await app.init();
    expect(app.get(RedstreamRegistry).getConsumer('products', 'indexer')?.isRunning).toBe(true);
    await app.close();
  });

  it('rejects an invalid timeout', async () => {
    const app = await compileRedstreamApp({
      providers: [IndexerA],
      options: { requireRedisAtBootstrap: { timeoutMs: -1 } },
    }).catch((error: unknown) => error);
    expect(String(app)).toMatch(/option "requireRedisAtBootstrap.timeoutMs" is invalid/);
  });
});
