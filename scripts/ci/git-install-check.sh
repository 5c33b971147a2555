#!/usr/bin/env bash
# `npm run test:git-install`: the install README's Quick start gives while the package is not on
# the npm registry, `npm install git+<url>`, done with this checkout's committed HEAD. npm clones
# it, installs its development dependencies in the clone and builds dist/ through `prepare`; the
# app must get a package whose entry points load and whose `redstream` executable runs.
# Uncommitted changes are not part of it (npm clones the commit). Needs the npm registry for the
# peers and the clone's build (CI has it: `npm ci` ran just before).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if ! commit="$(git -C "$root" rev-parse HEAD 2>/dev/null)"; then
  echo "git install: SKIPPED, $root is not a git checkout (nothing to clone)"
  exit 0
fi
started=$SECONDS
app="$(mktemp -d)"
trap 'rm -rf "$app"' EXIT

cd "$app"
npm init -y >/dev/null
# The peers at the versions the NestJS 11 fresh app pins (scripts/nest11/package.json).
read -r -a peers < <(node -e '
  const { dependencies } = require(process.argv[1]);
  const names = ["@nestjs/common", "@nestjs/core", "ioredis", "reflect-metadata", "rxjs"];
  console.log(names.map((name) => `${name}@${dependencies[name]}`).join(" "));
' "$root/scripts/nest11/package.json")
echo "== git install: npm install git+file://$root#$commit ${peers[*]}"
npm install --no-audit --no-fund --loglevel=error "git+file://$root#$commit" "${peers[@]}"

node - <<'NODE'
const assert = require('node:assert/strict');
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');
require('reflect-metadata');
const manifest = require.resolve('@redstream/nestjs/package.json');
const dist = join(dirname(manifest), 'dist');
assert.ok(existsSync(join(dist, 'index.d.ts')), 'prepare must have built dist/ with its types');
const root = require('@redstream/nestjs');
for (const name of ['RedstreamModule', 'RedstreamConsumer', 'Producer', 'defineStream']) {
  assert.equal(typeof root[name], 'function', `@redstream/nestjs must export ${name}`);
}
assert.equal(typeof require('@redstream/nestjs/engine').Redstream, 'function');
assert.equal(typeof require('@redstream/nestjs/testing').drain, 'function');
console.log('the git-installed package loads: root, engine and testing entry points');
NODE
npx --no-install redstream --help >/dev/null
echo "the redstream executable runs; git install checked in $((SECONDS - started)) s"
