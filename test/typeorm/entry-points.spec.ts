import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const repositoryRoot = join(__dirname, '..', '..');

interface EntryReport {
  typeormModules: number;
  terminusModules: number;
  /** Modules of lib/ that require @nestjs/microservices themselves (not through @nestjs/core). */
  libModulesRequiringMicroservices: string[];
  /** Whether lib/microservices/ was loaded at all. */
  microservicesEntryLoaded: boolean;
  /** Files of lib/dashboard loaded (the dashboard entry point and its page). */
  dashboardModules: number;
  exports: Record<string, string>;
  sameShardsEverywhere: boolean;
}

/** Loads `entries` (paths from the repository root) in a fresh Node process, from the sources. */
function loadInChild(entries: string[]): EntryReport {
  const script = `
    const loaded = ${JSON.stringify(entries)}.map((entry) => require(entry));
    const slashed = (file) => file.split(require('node:path').sep).join('/');
    const typeormModules = Object.keys(require.cache).filter((file) => slashed(file).includes('/node_modules/typeorm/')).length;
    const terminusModules = Object.keys(require.cache).filter((file) => slashed(file).includes('/node_modules/@nestjs/terminus/')).length;
    // @nestjs/core requires @nestjs/microservices on its own whenever it is installed (hybrid
    // apps), so what counts is whether a module of ours requires it.
    const ours = Object.values(require.cache).filter((module) => !slashed(module.filename).includes('/node_modules/'));
    const libModulesRequiringMicroservices = ours
      .filter((module) => module.children.some((child) => slashed(child.filename).includes('/node_modules/@nestjs/microservices/')))
      .map((module) => slashed(module.filename))
      .map((file) => file.slice(file.lastIndexOf('/lib/') + 1));
    const microservicesEntryLoaded = ours.some((module) => slashed(module.filename).includes('/lib/microservices/'));
    const dashboardModules = ours.filter((module) => slashed(module.filename).includes('/lib/dashboard/')).length;
    const exports = {};
    for (const name of ['redstreamShards', 'RedstreamShards', 'redstreamShardConsumers', 'redstreamShardDelayers']) {
      exports[name] = loaded.map((entry) => typeof entry[name]).join(',');
    }
    const sameShardsEverywhere = loaded.every((entry) => entry.RedstreamShards === loaded[0].RedstreamShards);
    process.stdout.write(
      JSON.stringify({ typeormModules, terminusModules, libModulesRequiringMicroservices, microservicesEntryLoaded, dashboardModules, exports, sameShardsEverywhere }),
    );
  `;
  const output = execFileSync(process.execPath, ['--require', './test/support/ts-register.js', '-e', script], {
    cwd: repositoryRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(output) as EntryReport;
}

describe('entry points and the optional peers (typeorm, @nestjs/terminus, @nestjs/microservices)', () => {
  it('the root and engine entries never load typeorm, @nestjs/terminus nor @nestjs/microservices, and export the shards', () => {
    const report = loadInChild(['./lib', './lib/engine']);
    expect(report.typeormModules).toBe(0);
    expect(report.terminusModules).toBe(0);
    expect(report.libModulesRequiringMicroservices).toEqual([]);
    expect(report.microservicesEntryLoaded).toBe(false);
    expect(report.dashboardModules).toBe(0);
    expect(report.exports).toEqual({
      redstreamShards: 'function,function',
      RedstreamShards: 'function,function',
      // The Nest providers come with the root entry; the engine has no Nest.
      redstreamShardConsumers: 'function,undefined',
      redstreamShardDelayers: 'function,undefined',
    });
    expect(report.sameShardsEverywhere).toBe(true);
  }, 60_000);

  it('the typeorm entry loads typeorm and still exports the shards, the same ones', () => {
    const report = loadInChild(['./lib/typeorm', './lib']);
    expect(report.typeormModules).toBeGreaterThan(0);
    expect(report.exports.redstreamShards).toBe('function,function');
    expect(report.exports.redstreamShardConsumers).toBe('function,function');
    expect(report.sameShardsEverywhere).toBe(true);
  }, 60_000);

  it('the testing entry loads neither typeorm nor a test runner, and the root entry does not load it', () => {
    const script = `
      const loaded = (pattern) => Object.keys(require.cache).filter((file) => pattern.test(file)).length;
      const root = require('./lib');
      const rootLoadedTesting = loaded(/[\\\\/]lib[\\\\/]testing[\\\\/]/);
      const testing = require('./lib/testing');
      process.stdout.write(JSON.stringify({
        rootLoadedTesting,
        testingLoaded: loaded(/[\\\\/]lib[\\\\/]testing[\\\\/]/) > 0,
        typeorm: loaded(/[\\\\/]node_modules[\\\\/]typeorm[\\\\/]/),
        runners: loaded(/[\\\\/]node_modules[\\\\/](jest|@jest|expect|@nestjs[\\\\/]testing)[\\\\/]/),
        helpers: ['drain', 'uniqueNamespace', 'flushNamespace'].map((name) => typeof testing.redstreamTesting[name]),
        timeoutIsOurs: new testing.RedstreamDrainTimeoutError('m', 's', 'c', '1-0', null) instanceof root.RedstreamError,
      }));
    `;
    const output = execFileSync(process.execPath, ['--require', './test/support/ts-register.js', '-e', script], {
      cwd: repositoryRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(JSON.parse(output)).toEqual({
      rootLoadedTesting: 0,
      testingLoaded: true,
      typeorm: 0,
      runners: 0,
      helpers: ['function', 'function', 'function'],
      timeoutIsOurs: true,
    });
  }, 60_000);

  it('the terminus entry loads @nestjs/terminus, and not typeorm', () => {
    const report = loadInChild(['./lib/terminus']);
    expect(report.terminusModules).toBeGreaterThan(0);
    expect(report.typeormModules).toBe(0);
  }, 60_000);

  it('the microservices entry loads @nestjs/microservices, and not typeorm', () => {
    const report = loadInChild(['./lib/microservices', './lib']);
    expect(report.microservicesEntryLoaded).toBe(true);
    expect(report.libModulesRequiringMicroservices).toEqual(
      expect.arrayContaining(['lib/microservices/redstream.server.ts', 'lib/microservices/redstream.client.ts']),
    );
    expect(report.typeormModules).toBe(0);
  }, 60_000);

  it('the dashboard entry loads the dashboard and not typeorm', () => {
    const report = loadInChild(['./lib/dashboard', './lib']);
    expect(report.dashboardModules).toBeGreaterThan(0);
    expect(report.typeormModules).toBe(0);
  }, 60_000);
});
