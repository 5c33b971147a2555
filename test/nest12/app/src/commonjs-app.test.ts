// A CommonJS NestJS 12 application (what `tsc` emits for most Nest projects), run by Node's own
// loader: NestJS 12 is ESM only and reaches both this file and the library through require(esm).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { CallHandler, ExecutionContext, Injectable, Module, NestInterceptor } from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import {
  Producer,
  Redstream,
  RedstreamConfigError,
  RedstreamConsumer,
  RedstreamMessage,
  RedstreamModule,
  RedstreamModuleOptions,
} from '@redstream/nestjs';
import { Observable, tap } from 'rxjs';
import { FAST_WORKERS } from './support/fast-workers';
import { assertOneNestjs, uniqueNamespace, waitFor } from './support/fresh-app-helpers';
import { RedisServerHandle, startRedisServer } from './support/redis-server';

const appRequire = createRequire(__filename);

@Injectable()
class ProductIndexer {
  readonly received: RedstreamMessage<{ id: number }>[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'indexer' })
  index(messages: RedstreamMessage<{ id: number }>[]): void {
    this.received.push(...messages);
  }
}

/** Proves that the handler ran through Nest's pipeline, with rxjs operators of the app's own copy. */
@Injectable()
class ContextTypeRecorder implements NestInterceptor {
  readonly seen: string[] = [];

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(tap(() => this.seen.push(context.getType())));
  }
}

@Injectable()
class ProductService {
  constructor(private readonly producer: Producer) {}

  saved(id: number): Promise<unknown> {
    return this.producer.queue('products', { id });
  }
}

function appModule(redisUrl: string, options: RedstreamModuleOptions = {}): new () => object {
  @Module({
    imports: [
      RedstreamModule.forRoot({
        redis: redisUrl,
        namespace: uniqueNamespace('nest12'),
        logger: false,
        consumerDefaults: FAST_WORKERS,
        ...options,
      }),
    ],
    providers: [
      ProductIndexer,
      ProductService,
      ContextTypeRecorder,
      { provide: APP_INTERCEPTOR, useExisting: ContextTypeRecorder },
    ],
  })
  class AppModule {}
  return AppModule;
}

describe('a CommonJS application on NestJS 12', () => {
  let redis: RedisServerHandle;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());

  it('loads the packed library, and it shares NestJS 12, rxjs and reflect-metadata with the app', () => {
    assertOneNestjs(appRequire.resolve, { major: 12, esmOnly: true });
    const library = createRequire(appRequire.resolve('@redstream/nestjs'));
    assert.equal(
      library('@nestjs/core'),
      appRequire('@nestjs/core'),
      'the library must get the same @nestjs/core module',
    );
    assert.equal(library('@nestjs/common').Injectable, Injectable);
  });

  it('boots; the decorated consumer receives, through interceptors, what the injected Producer queued', async () => {
    const app = await NestFactory.createApplicationContext(appModule(redis.url), {
      logger: false,
      abortOnError: false,
    });
    try {
      const indexer = app.get(ProductIndexer);
      await app.get(ProductService).saved(7);
      await waitFor(() => indexer.received.length === 1);
      assert.deepEqual(indexer.received[0].payload, { id: 7 });
      assert.deepEqual(app.get(ContextTypeRecorder).seen, ['redstream']);
      const redstream = app.get(Redstream);
      await waitFor(async () => (await redstream.committedOffset('products', 'indexer')) === indexer.received[0].id);
    } finally {
      await app.close();
    }
  });

  it("rejects invalid module options with the library's own error class", async () => {
    await assert.rejects(
      NestFactory.createApplicationContext(appModule(redis.url, { drainTimeoutMs: -1 }), {
        logger: false,
        abortOnError: false,
      }),
      (error: unknown) => error instanceof RedstreamConfigError && /drainTimeoutMs/.test(error.message),
    );
  });
});
