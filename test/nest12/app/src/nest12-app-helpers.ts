import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';

/** Short timings so that the apps start consuming and shut down within a second. */
export const FAST_WORKERS = {
  blockMs: 500,
  lockTtlMs: 1_000,
  lockRefreshMs: 300,
  standbyPollMs: 100,
  backoffInitialMs: 50,
  backoffMaxMs: 500,
} as const;

export function uniqueNamespace(): string {
  return `nest12-${randomBytes(4).toString('hex')}`;
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

const SHARED_PACKAGES = ['@nestjs/common', '@nestjs/core', 'rxjs', 'reflect-metadata'];

/**
 * Fails unless the application runs NestJS 12 (ESM), the library is the packed copy installed
 * beside it (not the repository's sources), and the library's own `require()` of NestJS, rxjs
 * and reflect-metadata reaches the very files the application loads: one copy of each, so
 * injection tokens, `instanceof` and metadata agree across the CommonJS/ESM boundary.
 */
export function assertOneNestjs12(appResolve: AppResolve): void {
  for (const name of ['@nestjs/common', '@nestjs/core']) {
    const manifest = JSON.parse(readFileSync(appResolve(`${name}/package.json`), 'utf8')) as {
      version: string;
      type?: string;
    };
    assert.match(manifest.version, /^12\./, `${name} must be NestJS 12`);
    assert.equal(manifest.type, 'module', `${name} 12 is expected to be ESM only`);
  }
  const libraryEntry = appResolve('@redstream/nestjs');
  assert.ok(
    libraryEntry.endsWith(join('node_modules', '@redstream', 'nestjs', 'dist', 'index.js')) &&
      libraryEntry.includes(`${sep}.nest12${sep}`),
    `the library must be the packed copy in .nest12/, got ${libraryEntry}`,
  );
  const libraryResolve = createRequire(libraryEntry).resolve;
  for (const name of SHARED_PACKAGES) {
    assert.equal(libraryResolve(name), appResolve(name), `the library and the app must load one ${name}`);
  }
}
