// Every Nest spec against NestJS 12 (ESM only, hence `esm`: babel-jest compiles it to CommonJS
// for Jest's loader); see jest.nest-major.config.js. `npm run test:nest12` installs NestJS 12
// into .nest12/ (scripts/nest12/run-nest12-tests.sh) and runs this config.
module.exports = require('./jest.nest-major.config.js')({ major: 12, esm: true });
