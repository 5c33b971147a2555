// Babel plugin for jest.nest12.config.js. NestJS 12 ships ESM that calls
// `createRequire(import.meta.url)`; once babel turns a file into CommonJS for Jest's loader,
// `import.meta` is a syntax error there, so it becomes the CommonJS equivalent of the same file.
module.exports = function importMetaToCommonJs({ template }) {
  const buildImportMeta = template.expression(`({
    url: require('node:url').pathToFileURL(__filename).href,
    filename: __filename,
    dirname: __dirname,
    resolve: (specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href,
  })`);
  return {
    name: 'import-meta-commonjs',
    visitor: {
      MetaProperty(path) {
        if (path.node.meta.name === 'import' && path.node.property.name === 'meta') {
          path.replaceWith(buildImportMeta());
        }
      },
    },
  };
};
