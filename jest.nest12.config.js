// Every spec that touches Nest, run against NestJS 12 instead of the NestJS 11 dev dependencies:
// all of test/nest/, test/nest12/**/*.e2e-spec.ts, and any other spec that imports `@nestjs/*`
// or lib/nest (the TypeORM module, the sample app). `npm run test:nest12` installs NestJS 12
// into .nest12/ (scripts/nest12/run-nest12-tests.sh) and runs this config.
//
// Why this works: NestJS 12 ships ESM only. Node 20.19+ can require() it, but Jest's module
// loader cannot (before Node 24.9), so babel-jest turns exactly the ESM packages of .nest12/ into
// CommonJS (`import.meta` included, see scripts/nest12/import-meta-commonjs.babel-plugin.js).
// moduleNameMapper sends every `@nestjs/*` installed there, and rxjs and reflect-metadata, to
// .nest12/ for the tests and for lib/ alike, so the library under test sees NestJS 12 too and
// there is one copy of each; typeorm goes the other way, to the root copy beside its drivers.
// What a user's Node really does with require(esm) is covered by the real-Node run on the
// packed library (test/nest12/app/), not here.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const nest12Modules = path.join(__dirname, '.nest12', 'node_modules');
if (!fs.existsSync(path.join(nest12Modules, '@nestjs', 'core', 'package.json'))) {
  throw new Error('NestJS 12 is not installed in .nest12/: run `npm run test:nest12`, which installs it first');
}

/** Paths (relative to .nest12/node_modules) of every installed package, nested ones included. */
function installedPackages(modulesDir, prefix = '') {
  const found = [];
  for (const entry of fs.readdirSync(modulesDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (entry.name.startsWith('@')) {
      found.push(...installedPackages(path.join(modulesDir, entry.name), `${prefix}${entry.name}/`));
      continue;
    }
    const packageDir = path.join(modulesDir, entry.name);
    found.push(`${prefix}${entry.name}`);
    const nested = path.join(packageDir, 'node_modules');
    if (fs.existsSync(nested)) found.push(...installedPackages(nested, `${prefix}${entry.name}/node_modules/`));
  }
  return found;
}

function isEsmPackage(relativeDir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(nest12Modules, relativeDir, 'package.json'), 'utf8'));
  return manifest.type === 'module';
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const esmPackages = installedPackages(nest12Modules)
  .filter((dir) => fs.existsSync(path.join(nest12Modules, dir, 'package.json')) && isEsmPackage(dir))
  .map(escapeRegExp);

const nestPackages = fs.readdirSync(path.join(nest12Modules, '@nestjs'));
const moduleNameMapper = Object.fromEntries([
  ...nestPackages.map((name) => [`^@nestjs/${escapeRegExp(name)}(/.*)?$`, `${nest12Modules}/@nestjs/${name}$1`]),
  ['^(rxjs|reflect-metadata)(/.*)?$', `${nest12Modules}/$1$2`],
  ['^typeorm(/.*)?$', `${path.join(__dirname, 'node_modules', 'typeorm')}$1`],
]);

/** Files under `dir` (recursively) whose name matches. */
function specFiles(dir, pattern) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : specFiles(file, pattern);
    return pattern.test(entry.name) ? [file] : [];
  });
}

const testDir = path.join(__dirname, 'test');
const nestSpecs = [
  ...specFiles(path.join(testDir, 'nest12'), /\.e2e-spec\.ts$/),
  ...specFiles(testDir, /\.spec\.ts$/).filter(
    (file) =>
      file.startsWith(path.join(testDir, 'nest') + path.sep) ||
      /from '@nestjs\/|require\('@nestjs\/|lib\/nest['/]/.test(fs.readFileSync(file, 'utf8')),
  ),
];

// A `@nestjs/*` package missing from .nest12/ would load its NestJS 11 copy from the root and
// mix majors quietly: name it instead.
const sourcesUsingNest = [...nestSpecs, ...specFiles(path.join(__dirname, 'lib'), /\.ts$/)];
const sampleSources = path.join(__dirname, 'sample', 'src');
if (fs.existsSync(sampleSources)) sourcesUsingNest.push(...specFiles(sampleSources, /\.ts$/));
const missingNestPackages = new Set();
for (const file of sourcesUsingNest) {
  for (const [, name] of fs.readFileSync(file, 'utf8').matchAll(/['"]@nestjs\/([a-z0-9-]+)/g)) {
    if (!nestPackages.includes(name)) missingNestPackages.add(`@nestjs/${name}`);
  }
}
if (missingNestPackages.size > 0) {
  throw new Error(
    `${[...missingNestPackages].join(', ')} not in .nest12/: add the NestJS 12 version to scripts/nest12/package.json ` +
      '(and its lockfile: npm install --package-lock-only there)',
  );
}

const importMetaPlugin = require.resolve('./scripts/nest12/import-meta-commonjs.babel-plugin.js');
const dynamicImportPlugin = require.resolve('./scripts/nest12/dynamic-import-commonjs.babel-plugin.js');
// babel-jest keys its cache on the babel options, not on a plugin's code: the hash makes an edit count.
const pluginHash = (file) => crypto.createHash('sha1').update(fs.readFileSync(file)).digest('hex');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: nestSpecs,
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    '^.+\\.m?js$': [
      'babel-jest',
      {
        babelrc: false,
        configFile: false,
        sourceType: 'unambiguous',
        plugins: [
          require.resolve('@babel/plugin-transform-modules-commonjs', { paths: [nest12Modules] }),
          [importMetaPlugin, { pluginHash: pluginHash(importMetaPlugin) }],
          [dynamicImportPlugin, { pluginHash: pluginHash(dynamicImportPlugin) }],
        ],
      },
    ],
  },
  // Everything in node_modules stays untouched except the ESM packages of .nest12/.
  transformIgnorePatterns: [`^(?!.*/\\.nest12/node_modules/(?:${esmPackages.join('|')})/).*/node_modules/`],
  moduleNameMapper,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: 2,
};
