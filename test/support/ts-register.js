// Lets a child process `require` the TypeScript sources (lib/, test fixtures) directly, so
// crash tests run the code under test, not a possibly stale `dist/` another build is
// rewriting. Transpile only (no type check): the suite's typecheck covers that.
// Usage: node --require ./test/support/ts-register.js test/engine/fixtures/worker-child.ts
const fs = require('node:fs');
const ts = require('typescript');

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  inlineSourceMap: true,
};

require.extensions['.ts'] = (tsModule, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  tsModule._compile(outputText, filename);
};
