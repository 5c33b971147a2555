// Babel plugin for jest.nest12.config.js. NestJS 12 loads optional packages with `import()`
// (NestFactory.createMicroservice: `import('@nestjs/microservices')`). Jest's CommonJS loader
// cannot run a dynamic import without --experimental-vm-modules, and Nest turns the failure into
// "package is missing" and process.exit(1). Inside the files babel already turns into CommonJS,
// `import(x)` becomes Jest's `require(x)` behind a promise, with the namespace shape import()
// gives (a CommonJS module as `default` beside its own keys).
module.exports = function dynamicImportToRequire({ template, types }) {
  const buildRequire = template.expression(
    `Promise.resolve().then(() => {
      const loaded = require(SOURCE);
      return loaded && loaded.__esModule ? loaded : { ...loaded, default: loaded };
    })`,
  );
  return {
    name: 'dynamic-import-commonjs',
    visitor: {
      CallExpression(path) {
        if (!types.isImport(path.node.callee) || path.node.arguments.length !== 1) return;
        path.replaceWith(buildRequire({ SOURCE: path.node.arguments[0] }));
      },
    },
  };
};
