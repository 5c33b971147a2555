// Babel plugin for jest.nest12.config.js. NestJS 12 ships ESM that calls
// `createRequire(import.meta.url)`; once babel turns a file into CommonJS for Jest's loader,
// `import.meta` is a syntax error there, so it becomes the CommonJS equivalent of the same file.
// It must not call `require`: the typical `const require = createRequire(import.meta.url)`
// would make that a reference to the binding being initialised.
module.exports = function importMetaToCommonJs({ template }) {
  const buildImportMeta = template.expression(
    `({
      url: new URL('file://' + __filename.split('/').map(encodeURIComponent).join('/')).href,
      filename: __filename,
      dirname: __dirname,
    })`,
    { placeholderPattern: false },
  );
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
