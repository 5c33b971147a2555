// The TypeORM specs (test/typeorm) against TypeORM 0.3 instead of the 1.x dev dependency:
// moduleNameMapper sends `typeorm` (for the tests and lib/ alike) to the copy that
// run-typeorm-0.3.js installed. Specs that spawn a child process still load 1.x there.
const path = require('node:path');
const base = require('../../../jest.config.js');

const modules = process.env.REDSTREAM_TYPEORM_03_MODULES;
if (!modules) throw new Error('Run this config through test/typeorm/compat/run-typeorm-0.3.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  rootDir: path.join(__dirname, '..', '..', '..'),
  roots: ['<rootDir>/test/typeorm'],
  moduleNameMapper: {
    '^typeorm$': path.join(modules, 'typeorm'),
    '^typeorm/(.*)$': path.join(modules, 'typeorm', '$1'),
  },
};
