// Every Nest spec against NestJS 10 (CommonJS, as Jest loads it) with reflect-metadata 0.1;
// see jest.nest-major.config.js. `bash scripts/nest12/run-nest12-tests.sh 10` (part of
// `npm run test:fresh-apps`) installs NestJS 10 into .nest10/ and runs this config. No spec is
// left out: the library supports all of it on 10 (terminus 10 included, through the
// HealthCheckError path). Two tests of test/nest/redstream-structured-logging.spec.ts skip
// themselves here: they use ConsoleLogger's `{ colors, json }` options, which NestJS 11 added.
module.exports = require('./jest.nest-major.config.js')({
  major: 10,
  // @nestjs/typeorm 10 supports TypeORM 0.3 only (its getRepositoryToken checks
  // `AbstractRepository`, which TypeORM 1 removed): a NestJS 10 app runs 0.3, pinned in
  // scripts/nest10/package.json, for the tests and lib/ alike.
  harnessTypeorm: true,
});
