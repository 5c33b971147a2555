#!/usr/bin/env node
// The `redstream` executable (package.json `bin`): `npx redstream --help`.
import { runCli } from './redstream-cli';

void runCli(process.argv.slice(2)).then((code) => {
  // Not process.exit(): stdout may be a pipe still being written to.
  process.exitCode = code;
});
