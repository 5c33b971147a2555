// tsc copies no assets: the Lua scripts are read at run time from beside the compiled engine.
const fs = require('node:fs');
const path = require('node:path');

const from = path.join(__dirname, '..', 'lib', 'engine', 'scripts');
const to = path.join(__dirname, '..', 'dist', 'engine', 'scripts');
fs.mkdirSync(to, { recursive: true });
for (const file of fs.readdirSync(from).filter((f) => f.endsWith('.lua'))) {
  fs.copyFileSync(path.join(from, file), path.join(to, file));
}
