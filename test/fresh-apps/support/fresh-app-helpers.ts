// Shared by every fresh application (test/nest10/app, test/nest11/app, test/nest12/app and
// test/fresh-apps): scripts/nest12/run-nest12-tests.sh copies it to src/support/ of each harness,
// where it compiles against that harness's NestJS like the apps themselves.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
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
import { FAST_WORKERS } from './fast-workers';

/** A namespace of its own for each app, so that apps sharing a Redis never share keys. */
export function uniqueNamespace(prefix = 'fresh-app'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Polls `check` until it returns true. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waitFor timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The file a specifier resolves to, seen from the application (ESM or CommonJS resolution). */
export type AppResolve = (specifier: string) => string;

/** The version of `name` the application loads. */
export function installedVersion(appResolve: AppResolve, name: string): string {
  return (JSON.parse(readFileSync(appResolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

/** What {@link assertOneNestjs} expects of one harness. */
export interface HarnessExpectation {
  /** The NestJS major of `@nestjs/common`, `@nestjs/core` and `alsoNestjs`. */
  readonly major: number;
  /** Whether that NestJS ships ESM only (12). */
  readonly esmOnly?: boolean;
  /** Further `@nestjs/*` packages of that major that the app and the library must share. */
  readonly alsoNestjs?: readonly string[];
}

/**
 * Fails unless the application runs the expected NestJS major, the library is the packed copy
 * installed beside it in `.nest<major>/` (not the repository's sources), and the library's own
 * `require()` of NestJS, rxjs and reflect-metadata reaches the very files the application loads:
 * one copy of each, so that injection tokens, `instanceof` and metadata agree (across the
 * CommonJS/ESM boundary too, on NestJS 12).
 */
export function assertOneNestjs(appResolve: AppResolve, expected: HarnessExpectation): void {
  const nestPackages = ['@nestjs/common', '@nestjs/core', ...(expected.alsoNestjs ?? [])];
  for (const name of nestPackages) {
    const manifest = JSON.parse(readFileSync(appResolve(`${name}/package.json`), 'utf8')) as {
      version: string;
      type?: string;
    };
    assert.match(manifest.version, new RegExp(`^${expected.major}\\.`), `${name} must be NestJS ${expected.major}`);
    if (expected.esmOnly) assert.equal(manifest.type, 'module', `${name} ${expected.major} is expected to be ESM only`);
  }
  const libraryEntry = appResolve('@redstream/nestjs');
  assert.ok(
    libraryEntry.endsWith(join('node_modules', '@redstream', 'nestjs', 'dist', 'index.js')) &&
      libraryEntry.includes(`${sep}.nest${expected.major}${sep}`),
    `the library must be the packed copy in .nest${expected.major}/, got ${libraryEntry}`,
  );
  const libraryResolve = createRequire(libraryEntry).resolve;
  for (const name of [...nestPackages, 'rxjs', 'reflect-metadata']) {
    assert.equal(libraryResolve(name), appResolve(name), `the library and the app must load one ${name}`);
  }
}

/** The consumer the apps decorate: it keeps what it received. */
@Injectable()
export class ProductIndexer {
  readonly received: RedstreamMessage<{ id: number }>[] = [];

  @RedstreamConsumer({ stream: 'products', name: 'indexer' })
  index(messages: RedstreamMessage<{ id: number }>[]): void {
    this.received.push(...messages);
  }
}

/**
 * The first thing a user does: an app importing `RedstreamModule.forRoot` boots, a decorated
 * consumer receives what the injected Producer queued and commits it, and it stops with the app.
 */
export async function assertBootsConsumesAndStops(redisUrl: string, namespacePrefix: string): Promise<void> {
  @Module({
    imports: [
      RedstreamModule.forRoot({
        redis: redisUrl,
        namespace: uniqueNamespace(namespacePrefix),
        logger: false,
        consumerDefaults: FAST_WORKERS,
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
}
