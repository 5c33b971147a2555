// Runs the TypeORM specs against the oldest TypeORM the peer range allows (0.3.20) or the one
// given as argument (`npm run test:typeorm-compat -- 0.3.31`), installed once into the temp dir
// with the drivers it loads from its own location.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const version = process.argv[2] ?? '0.3.20';
const root = path.join(__dirname, '..', '..', '..');
const rootPackage = require(path.join(root, 'package.json'));
const dir = path.join(os.tmpdir(), `redstream-typeorm-${version}`);
const modules = path.join(dir, 'node_modules');

const installed = (() => {
  try {
    return require(path.join(modules, 'typeorm', 'package.json')).version === version;
  } catch {
    return false;
  }
})();
if (!installed) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'typeorm-compat', private: true }));
  const drivers = ['sql.js', 'pg', 'reflect-metadata'].map((name) => `${name}@${rootPackage.devDependencies[name]}`);
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', `typeorm@${version}`, ...drivers], {
    cwd: dir,
    stdio: 'inherit',
  });
  if (npm.status !== 0) process.exit(npm.status ?? 1);
}

const jest = spawnSync(
  process.execPath,
  [require.resolve('jest/bin/jest', { paths: [root] }), '--config', path.join(__dirname, 'jest.typeorm-0.3.config.js')],
  { cwd: root, stdio: 'inherit', env: { ...process.env, REDSTREAM_TYPEORM_03_MODULES: modules } },
);
process.exit(jest.status ?? 1);
