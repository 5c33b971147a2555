#!/usr/bin/env bash
# `npm run test:nest12`: the library against NestJS 12, which ships ESM only, while the dev
# dependencies (and `npm test`) stay on NestJS 11. Two runs, decided as follows:
#
# 1. Real Node, real package (what users run): the built library is `npm pack`ed and installed,
#    like any dependency, into .nest12/ next to a pinned NestJS 12 (scripts/nest12/package.json
#    and its lockfile, from the npm registry; npm also checks our peer ranges there). A small
#    CommonJS app and an ESM app (test/nest12/app/) are compiled there by tsc against NestJS 12's
#    and our published types, and run by `node --test`: NestJS 12 reaches the CommonJS library
#    through Node 20.19+'s require(esm), and the tests assert one copy of NestJS, rxjs and
#    reflect-metadata across that boundary.
# 2. Every spec that touches Nest (test/nest/, the TypeORM module, the sample app) under Jest
#    (jest.nest12.config.js): Jest's loader cannot require ESM on Node 20, so babel-jest compiles
#    NestJS 12's ESM to CommonJS and moduleNameMapper points every `@nestjs/*` (for the tests and
#    lib/ alike) at .nest12/. Wider coverage, but not Node's own loader.
#
# .nest12/ is git-ignored and reinstalled only when the lockfile changes. Set
# REDSTREAM_SKIP_BUILD=1 when dist/ is fresh (CI builds just before). With
# REDSTREAM_TEST_RESULTS_DIR set, machine-readable results go there for scripts/ci/test-totals.js.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
harness="$root/.nest12"
results="${REDSTREAM_TEST_RESULTS_DIR:-}"

step() { printf '\n== nest12: %s\n' "$*"; }

if ! cmp -s scripts/nest12/package-lock.json "$harness/package-lock.json" ||
  [ ! -f "$harness/node_modules/@nestjs/core/package.json" ]; then
  step "installing NestJS 12 into .nest12/ (npm ci)"
  rm -rf "$harness"
  mkdir -p "$harness"
  cp scripts/nest12/package.json scripts/nest12/package-lock.json "$harness/"
  (cd "$harness" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${REDSTREAM_SKIP_BUILD:-}" != 1 ]; then
  step "building the library"
  npm run build --silent
fi

step "packing the library and installing the tarball into .nest12/"
rm -rf "$harness/pack" "$harness/node_modules/@redstream"
mkdir -p "$harness/pack"
tarball="$(npm pack --silent --pack-destination "$harness/pack" | tail -n 1)"
(cd "$harness" && npm install --no-save --no-audit --no-fund --loglevel=error "./pack/$tarball")

step "compiling the NestJS 12 apps (test/nest12/app) against NestJS 12's types"
rm -rf "$harness/src" "$harness/build"
cp -R test/nest12/app/src "$harness/src"
mkdir -p "$harness/src/support"
cp test/support/redis-server.ts "$harness/src/support/"
cp test/nest12/app/tsconfig.json "$harness/tsconfig.json"
node_modules/.bin/tsc -p "$harness/tsconfig.json"

step "the Nest specs under Jest with NestJS 12 (jest.nest12.config.js)"
jest_args=(--config jest.nest12.config.js)
[ -n "$results" ] && jest_args+=(--json --outputFile="$results/jest-nest12.json")
node_modules/.bin/jest "${jest_args[@]}"

step "real Node: the packed library in CommonJS and ESM apps on NestJS 12 (node --test)"
# No --test-force-exit: a handle the library leaves open after app.close() must fail the run (the
# outer timeout turns that hang into a failure), and it would cut the TAP file short anyway.
node_args=(--test --test-timeout=60000 --test-reporter=spec --test-reporter-destination=stdout)
[ -n "$results" ] && node_args+=(--test-reporter=tap --test-reporter-destination="$results/node-nest12.tap")
if ! (cd "$harness" && timeout --kill-after=10s 180s node "${node_args[@]}" build/*.test.js build/*.test.mjs); then
  echo "nest12: node --test failed (or did not exit within 180 s: a handle left open after app.close()?)" >&2
  exit 1
fi
