// A fresh NestJS 11 application (CommonJS, what the Nest 11 starter compiles to), run by Node's
// own loader against the packed library installed next to it in .nest11/.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Producer,
  Redstream,
  RedstreamConsumer,
  RedstreamMessage,
  RedstreamModule,
  RedstreamRegistry,
} from '@redstream/nestjs';
import { RedisServerHandle, startRedisServer } from './support/redis-server';

const appRequire = createRequire(__filename);

@Injectable()
class ProductIndexer {
  readonly received: RedstreamMessage<{ id: number }>[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'indexer', blockMs: 500, lockTtlMs: 1_000, lockRefreshMs: 300 })
  index(messages: RedstreamMessage<{ id: number }>[]): void {
    this.received.push(...messages);
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waitFor timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a CommonJS application on NestJS 11', () => {
  let redis: RedisServerHandle;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.stop());

  it('loads the packed library, and it shares NestJS 11, rxjs and reflect-metadata with the app', () => {
    for (const name of ['@nestjs/common', '@nestjs/core']) {
      const manifest = JSON.parse(readFileSync(appRequire.resolve(`${name}/package.json`), 'utf8')) as {
        version: string;
      };
      assert.match(manifest.version, /^11\./, `${name} must be NestJS 11`);
    }
    const libraryEntry = appRequire.resolve('@redstream/nestjs');
    assert.ok(
      libraryEntry.endsWith(join('node_modules', '@redstream', 'nestjs', 'dist', 'index.js')) &&
        libraryEntry.includes(`${sep}.nest11${sep}`),
      `the library must be the packed copy in .nest11/, got ${libraryEntry}`,
    );
    const libraryResolve = createRequire(libraryEntry).resolve;
    for (const name of ['@nestjs/common', '@nestjs/core', 'rxjs', 'reflect-metadata']) {
      assert.equal(libraryResolve(name), appRequire.resolve(name), `the library and the app must load one ${name}`);
    }
  });

  it('boots; the decorated consumer receives what the injected Producer queued, and stops with the app', async () => {
    @Module({
      imports: [
        RedstreamModule.forRoot({
          redis: redis.url,
          namespace: `nest11-${randomBytes(4).toString('hex')}`,
          logger: false,
        }),
      ],
      providers: [ProductIndexer],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
    const registry = app.get(RedstreamRegistry);
    try {
      const [id] = await app.get(Producer).queue('products', { id: 7 });
      const indexer = app.get(ProductIndexer);
      await waitFor(() => indexer.received.length === 1);
      assert.deepEqual(indexer.received[0].payload, { id: 7 });
      await waitFor(async () => (await app.get(Redstream).committedOffset('products', 'indexer')) === id);
    } finally {
      await app.close();
    }
    assert.equal(registry.getConsumer('products', 'indexer')?.isActive, false);
  });
});
