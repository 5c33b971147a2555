import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';

const repositoryRoot = join(__dirname, '..', '..');

interface PackedFile {
  path: string;
}

interface PackReport {
  name: string;
  filename: string;
  files: PackedFile[];
}

/**
 * What `npm pack` would put in the tarball, from a copy of the checkout's files (what a git clone
 * holds: tracked and untracked but not ignored, so no dist/) with the repository's node_modules,
 * as npm prepares a git dependency, in `copy`. The `prepare` script builds dist/ in the copy, which
 * leaves this checkout's dist/ alone while other specs may use it.
 */
function packFromCleanCopy(copy: string): PackReport {
  const sources = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: repositoryRoot,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file !== '' && !file.startsWith('node_modules'));
  for (const file of sources) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(repositoryRoot, file), join(copy, file), { force: true });
  }
  symlinkSync(join(repositoryRoot, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--foreground-scripts=false'], {
    cwd: copy,
    encoding: 'utf8',
    timeout: 150_000,
    env: { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
  const [report] = JSON.parse(output) as PackReport[];
  return report;
}

/** Relative link targets in a Markdown text (inline links, images and reference definitions). */
function relativeLinkTargets(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const targets = [
    ...[...withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]),
    ...[...withoutCode.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => match[1]),
    ...[...withoutCode.matchAll(/<(?:img|a)\s[^>]*(?:src|href)="([^"]+)"/g)].map((match) => match[1]),
  ];
  return targets.filter((target) => !/^([a-z][a-z0-9+.-]*:|#|\/\/)/i.test(target));
}

describe('the npm package', () => {
  let packed: Set<string>;
  /** The clean copy the package was packed from, with the dist/ its `prepare` built. */
  let copy: string;

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'redstream-pack-'));
    packed = new Set(packFromCleanCopy(copy).files.map((file) => file.path));
  }, 180_000);
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('holds the built entry points with their types, and every export target', () => {
    for (const file of [
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/engine/index.js',
      'dist/engine/index.d.ts',
      'dist/typeorm/index.js',
      'dist/typeorm/index.d.ts',
      'dist/testing/index.js',
      'dist/testing/index.d.ts',
    ]) {
      expect({ file, packed: packed.has(file) }).toEqual({ file, packed: true });
    }
    const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      exports: Record<string, string | Record<string, string>>;
    };
    const targets = [manifest.main, manifest.types];
    for (const target of Object.values(manifest.exports)) {
      targets.push(...(typeof target === 'string' ? [target] : Object.values(target)));
    }
    for (const target of targets) {
      const file = posix.normalize(target);
      expect({ target, packed: packed.has(file) }).toEqual({ target, packed: true });
    }
  });

  it('holds the redstream executable named in bin, which runs from the built file', () => {
    const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(Object.keys(manifest.bin)).toEqual(['redstream']);
    const bin = posix.normalize(manifest.bin.redstream);
    expect({ bin, packed: packed.has(bin) }).toEqual({ bin, packed: true });
    const built = join(copy, bin);
    // npm links it as a command: it must start with the interpreter line.
    expect(readFileSync(built, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const help = execFileSync(process.execPath, [built, '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help).toMatch(/^Usage: redstream /);
    for (const command of ['status', 'lag', 'peek', 'rewind', 'forget', 'trim', 'dead']) {
      expect(help).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it('holds every Lua script beside the compiled engine', () => {
    const scripts = readdirSync(join(repositoryRoot, 'lib', 'engine', 'scripts')).filter((name) =>
      name.endsWith('.lua'),
    );
    expect(scripts.length).toBeGreaterThan(0);
    const packedScripts = [...packed].filter((file) => /^dist\/engine\/scripts\/[^/]+\.lua$/.test(file));
    expect(packedScripts.sort()).toEqual(scripts.map((name) => `dist/engine/scripts/${name}`).sort());
  });

  it('holds the LICENSE, README and CHANGELOG', () => {
    for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md']) {
      expect({ file, packed: packed.has(file) }).toEqual({ file, packed: true });
    }
  });

  it('holds no sources, tests or development files', () => {
    const unwanted = [...packed].filter(
      (file) =>
        /^(lib|test|sample|bench|scripts|\.ci|\.nest12)\//.test(file) ||
        (file.endsWith('.ts') && !file.endsWith('.d.ts')) ||
        /^(tsconfig.*|jest\..*|eslint\..*|\.prettier.*|nest-cli)\.json$|\.tgz$/.test(file),
    );
    expect(unwanted).toEqual([]);
  });

  it('the README links only to files in the package, or absolutely', () => {
    const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
    const missing = relativeLinkTargets(readme)
      .map((target) => posix.normalize(decodeURI(target.split('#')[0])))
      .filter((file) => !packed.has(file));
    expect(missing).toEqual([]);
  });
});
