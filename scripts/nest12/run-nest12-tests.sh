#!/usr/bin/env bash
# `npm run test:fresh-apps` (NestJS 10, 11 and 12) and `npm run test:nest12` (12 only): the packed
# library installed into fresh applications, while the dev dependencies (and `npm test`) stay on
# NestJS 11. Arguments: the NestJS majors to run, default `10 11 12`. Decided as follows:
#
# 1. Real Node, real package (what users run): the built library is `npm pack`ed once, and the
#    same tarball installed, like any dependency, into .nest10/, .nest11/ and .nest12/, each next
#    to a pinned NestJS (scripts/nest10/, scripts/nest11/ and scripts/nest12/: package.json and
#    lockfile, from the npm registry; npm also checks our peer ranges there). Each app
#    (test/nest10/app/, test/nest11/app/, test/nest12/app/, plus test/fresh-apps/, which all
#    share) is compiled there by tsc against that NestJS's and our published types and run by
#    `node --test`. NestJS 10 and 11 are CommonJS, the starter's default; NestJS 10 runs with
#    reflect-metadata 0.1 (the older half of our peer range) and also checks the terminus 10
#    health indicator and the microservice transport with NestJS 10's own packages. NestJS 12 is
#    ESM only and reaches the CommonJS library through Node 20.19+'s require(esm), and its tests
#    assert one copy of NestJS, rxjs and reflect-metadata across that boundary (a CommonJS and an
#    ESM app). test/fresh-apps/ uses `@redstream/nestjs/testing` from the installed package, as a
#    user's e2e test would; test/fresh-apps/support/ (with test/support/redis-server.ts and
#    fast-workers.ts) goes to
#    src/support/ of every harness: the helpers all the apps use.
# 2. NestJS 10 and 12: every spec that touches Nest (test/nest/, terminus, microservices, the
#    TypeORM module, the sample app) under Jest (jest.nest10.config.js, jest.nest12.config.js,
#    both from jest.nest-major.config.js): moduleNameMapper points every `@nestjs/*` (for the
#    tests and lib/ alike) at .nest<major>/; for 12, whose ESM Jest's loader cannot require on
#    Node 20, babel-jest compiles it to CommonJS. Wider coverage, but not Node's own loader. (11
#    is what `npm test` runs already.)
#
# .nest10/, .nest11/ and .nest12/ are git-ignored and reinstalled only when their lockfile
# changes. Set REDSTREAM_SKIP_BUILD=1 when dist/ is fresh (CI builds just before); either way
# the pack skips `prepare` (--ignore-scripts), which would build again. With
# REDSTREAM_TEST_RESULTS_DIR set, machine-readable results go there for
# scripts/ci/print-test-totals.js.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
results="${REDSTREAM_TEST_RESULTS_DIR:-}"
majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(10 11 12)
started=$SECONDS

step() { printf '\n== fresh apps: %s (%d s)\n' "$*" "$((SECONDS - started))"; }

for major in "${majors[@]}"; do
  case "$major" in
    10 | 11 | 12) ;;
    *) echo "fresh apps: no app for NestJS $major (10, 11 or 12)" >&2 && exit 2 ;;
  esac
done

if [ "${REDSTREAM_SKIP_BUILD:-}" != 1 ]; then
  step "building the library"
  npm run build --silent
fi

step "packing the library (one tarball for every app)"
pack_dir="$(mktemp -d)"
trap 'rm -rf "$pack_dir"' EXIT
# --ignore-scripts: `prepare` would build again what was just built (or declared fresh).
tarball="$pack_dir/$(npm pack --silent --ignore-scripts --pack-destination "$pack_dir" | tail -n 1)"

# Installs NestJS <major> and the tarball into .nest<major>/ and compiles its app there.
prepare_app() {
  local major="$1" harness="$root/.nest$1"
  if ! cmp -s "scripts/nest$major/package-lock.json" "$harness/package-lock.json" ||
    [ ! -f "$harness/node_modules/@nestjs/core/package.json" ]; then
    step "installing NestJS $major into .nest$major/ (npm ci)"
    rm -rf "$harness"
    mkdir -p "$harness"
    cp "scripts/nest$major/package.json" "scripts/nest$major/package-lock.json" "$harness/"
    (cd "$harness" && npm ci --no-audit --no-fund --loglevel=error)
  fi

  step "installing the tarball into .nest$major/"
  rm -rf "$harness/pack" "$harness/node_modules/@redstream"
  mkdir -p "$harness/pack"
  cp "$tarball" "$harness/pack/"
  (cd "$harness" && npm install --no-save --no-audit --no-fund --loglevel=error "./pack/$(basename "$tarball")")

  step "compiling the NestJS $major apps (test/nest$major/app, test/fresh-apps) against NestJS $major's types"
  rm -rf "$harness/src" "$harness/build"
  cp -R "test/nest$major/app/src" "$harness/src"
  cp test/fresh-apps/*.ts "$harness/src/"
  mkdir -p "$harness/src/support"
  cp test/support/redis-server.ts test/support/fast-workers.ts test/fresh-apps/support/*.ts "$harness/src/support/"
  cp "test/nest$major/app/tsconfig.json" "$harness/tsconfig.json"
  node_modules/.bin/tsc -p "$harness/tsconfig.json"
}

# Runs the compiled apps of .nest<major>/ with node --test.
run_app() {
  local major="$1" harness="$root/.nest$1"
  step "real Node: the packed library in the NestJS $major apps (node --test)"
  # No --test-force-exit: a handle the library leaves open after app.close() must fail the run
  # (the outer timeout turns that hang into a failure), and it would cut the TAP file short anyway.
  local node_args=(--test --test-timeout=60000 --test-reporter=spec --test-reporter-destination=stdout)
  [ -n "$results" ] && node_args+=(--test-reporter=tap --test-reporter-destination="$results/node-nest$major.tap")
  local files=()
  for file in "$harness"/build/*.test.js "$harness"/build/*.test.mjs; do
    [ -f "$file" ] && files+=("${file#"$harness"/}")
  done
  if ! (cd "$harness" && timeout --kill-after=10s 180s node "${node_args[@]}" "${files[@]}"); then
    echo "fresh apps: NestJS $major node --test failed (or did not exit within 180 s: a handle left open after app.close()?)" >&2
    exit 1
  fi
}

for major in "${majors[@]}"; do
  prepare_app "$major"
  run_app "$major"
  if [ "$major" != 11 ]; then
    step "the Nest specs under Jest with NestJS $major (jest.nest$major.config.js)"
    jest_args=(--config "jest.nest$major.config.js")
    [ -n "$results" ] && jest_args+=(--json --outputFile="$results/jest-nest$major.json")
    node_modules/.bin/jest "${jest_args[@]}"
  fi
done
step "done"
