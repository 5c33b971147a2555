// Every spec that touches Nest, run against another NestJS major than the NestJS 11 dev
// dependencies: all of test/nest/, test/nest<major>/**/*.e2e-spec.ts, and any other spec that
// imports `@nestjs/*` or lib/nest (the TypeORM module, the sample app). The thin configs
// jest.nest10.config.js and jest.nest12.config.js call this with their major;
// scripts/nest12/run-nest12-tests.sh installs that NestJS into .nest<major>/ and runs them.
//
// moduleNameMapper sends every `@nestjs/*` installed in .nest<major>/, and rxjs and
// reflect-metadata, there for the tests and for lib/ alike, so the library under test sees that
// NestJS too and there is one copy of each; typeorm goes the other way, to the root copy beside
// its drivers. NestJS 10 is CommonJS and needs nothing more. NestJS 12 ships ESM only: Node
// 20.19+ can require() it, but Jest's module loader cannot (before Node 24.9), so babel-jest
// turns exactly the ESM packages of .nest12/ into CommonJS (`import.meta` included, see
// scripts/nest12/import-meta-commonjs.babel-plugin.js). What a user's Node really does is
// covered by the real-Node run on the packed library (test/nest<major>/app/), not here.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

/** Paths (relative to `modulesDir`) of every installed package, nested ones included. */
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

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Files under `dir` (recursively) whose name matches; none when `dir` does not exist. */
function specFiles(dir, pattern) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : specFiles(file, pattern);
    return pattern.test(entry.name) ? [file] : [];
  });
}

/** babel-jest for the ESM packages of `modulesDir` (NestJS 12), and the pattern that spares the rest. */
function esmTransform(major, modulesDir) {
  const isEsmPackage = (relativeDir) =>
    JSON.parse(fs.readFileSync(path.join(modulesDir, relativeDir, 'package.json'), 'utf8')).type === 'module';
  const esmPackages = installedPackages(modulesDir)
    .filter((dir) => fs.existsSync(path.join(modulesDir, dir, 'package.json')) && isEsmPackage(dir))
    .map(escapeRegExp);
  const importMetaPlugin = require.resolve('./scripts/nest12/import-meta-commonjs.babel-plugin.js');
  const dynamicImportPlugin = require.resolve('./scripts/nest12/dynamic-import-commonjs.babel-plugin.js');
  // babel-jest keys its cache on the babel options, not on a plugin's code: the hash makes an edit count.
  const pluginHash = (file) => crypto.createHash('sha1').update(fs.readFileSync(file)).digest('hex');
  return {
    transform: {
      '^.+\\.m?js$': [
        'babel-jest',
        {
          babelrc: false,
          configFile: false,
          sourceType: 'unambiguous',
          plugins: [
            require.resolve('@babel/plugin-transform-modules-commonjs', { paths: [modulesDir] }),
            [importMetaPlugin, { pluginHash: pluginHash(importMetaPlugin) }],
            [dynamicImportPlugin, { pluginHash: pluginHash(dynamicImportPlugin) }],
          ],
        },
      ],
    },
    // Everything in node_modules stays untouched except the ESM packages of .nest<major>/.
    transformIgnorePatterns: [`^(?!.*/\\.nest${major}/node_modules/(?:${esmPackages.join('|')})/).*/node_modules/`],
  };
}

/**
 * The Jest config for NestJS `major` installed in .nest<major>/. `esm`: the NestJS packages
 * are ESM only (12) and go through babel-jest. `harnessTypeorm`: `typeorm` resolves to the
 * copy in .nest<major>/ instead of the root's (its drivers still come from the root's
 * node_modules, the next folder up).
 *
 * @param {{ major: number, esm?: boolean, harnessTypeorm?: boolean }} options
 * @returns {import('jest').Config}
 */
module.exports = function nestMajorJestConfig({ major, esm = false, harnessTypeorm = false }) {
  const modulesDir = path.join(__dirname, `.nest${major}`, 'node_modules');
  if (!fs.existsSync(path.join(modulesDir, '@nestjs', 'core', 'package.json'))) {
    throw new Error(
      `NestJS ${major} is not installed in .nest${major}/: run \`bash scripts/nest12/run-nest12-tests.sh ${major}\`, ` +
        'which installs it first',
    );
  }

  const nestPackages = fs.readdirSync(path.join(modulesDir, '@nestjs'));
  const moduleNameMapper = Object.fromEntries([
    ...nestPackages.map((name) => [`^@nestjs/${escapeRegExp(name)}(/.*)?$`, `${modulesDir}/@nestjs/${name}$1`]),
    ['^(rxjs|reflect-metadata)(/.*)?$', `${modulesDir}/$1$2`],
    [
      '^typeorm(/.*)?$',
      `${path.join(harnessTypeorm ? modulesDir : path.join(__dirname, 'node_modules'), 'typeorm')}$1`,
    ],
  ]);

  const testDir = path.join(__dirname, 'test');
  const nestSpecs = [
    ...specFiles(path.join(testDir, `nest${major}`), /\.e2e-spec\.ts$/),
    ...specFiles(testDir, /\.spec\.ts$/).filter(
      (file) =>
        file.startsWith(path.join(testDir, 'nest') + path.sep) ||
        /from '@nestjs\/|require\('@nestjs\/|lib\/nest['/]/.test(fs.readFileSync(file, 'utf8')),
    ),
  ];

  // A `@nestjs/*` package missing from .nest<major>/ would load its NestJS 11 copy from the
  // root and mix majors quietly: name it instead.
  const sourcesUsingNest = [...nestSpecs, ...specFiles(path.join(__dirname, 'lib'), /\.ts$/)];
  sourcesUsingNest.push(...specFiles(path.join(__dirname, 'sample', 'src'), /\.ts$/));
  const missingNestPackages = new Set();
  for (const file of sourcesUsingNest) {
    for (const [, name] of fs.readFileSync(file, 'utf8').matchAll(/['"]@nestjs\/([a-z0-9-]+)/g)) {
      if (!nestPackages.includes(name)) missingNestPackages.add(`@nestjs/${name}`);
    }
  }
  if (missingNestPackages.size > 0) {
    throw new Error(
      `${[...missingNestPackages].join(', ')} not in .nest${major}/: add the NestJS ${major} version to ` +
        `scripts/nest${major}/package.json (and its lockfile: npm install --package-lock-only there)`,
    );
  }

  const esmOnly = esm ? esmTransform(major, modulesDir) : { transform: {}, transformIgnorePatterns: undefined };
  return {
    testEnvironment: 'node',
    roots: ['<rootDir>/test'],
    testMatch: nestSpecs,
    transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }], ...esmOnly.transform },
    ...(esmOnly.transformIgnorePatterns ? { transformIgnorePatterns: esmOnly.transformIgnorePatterns } : {}),
    moduleNameMapper,
    globalSetup: '<rootDir>/test/support/global-setup.ts',
    globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    testTimeout: 30000,
    maxWorkers: 2,
  };
};
