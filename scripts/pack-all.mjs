#!/usr/bin/env node
// `pnpm pack:all [--out <dir>] [--no-build] [name ...]` (names: `core kafka`, default every package): builds every publishable package (packages/*), bundles it (scripts/bundle.mjs) and packs
// each with `pnpm pack`, which writes real versions in place of `workspace:*` and `catalog:` and
// applies `publishConfig`, so the tarballs install with plain npm. Prints one tarball path a line.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string', default: join(root, '.tmp', 'packs') }, 'no-build': { type: 'boolean', default: false } },
});
const out = resolve(values.out);

const packages = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .filter((dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private !== true)
  .filter((dir) => positionals.length === 0 || positionals.includes(dir.split(/[\\/]/).pop()));
if (packages.length === 0) throw new Error(`pack:all: no package matches ${positionals.join(' ')}`);

// Build output of a source file that no longer exists would otherwise be published.
function pruneOrphans(dir) {
  const dist = join(dir, 'dist');
  if (!existsSync(dist)) return;
  const walk = (at) => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) { walk(path); continue; }
      // The bundle (scripts/bundle.mjs) has no source file of its own.
      if (/^index\.bundle\.js(\.map)?$/.test(entry) && at === dist) continue;
      const stem = relative(dist, path).replace(/(\.d)?\.(js|ts)(\.map)?$/, '');
      if (stem === relative(dist, path)) continue;
      if (!existsSync(join(dir, 'src', `${stem}.ts`))) rmSync(path);
    }
  };
  walk(dist);
}

if (!values['no-build']) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-b', ...packages.map((dir) => relative(root, dir))], { cwd: root, stdio: 'inherit' });
  } catch {
    console.error('pack:all: the build failed (errors above); nothing was packed');
    process.exit(1);
  }
}

// Each package's `dist/index.bundle.js`, what publishConfig exports (scripts/bundle.mjs).
execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs'), ...packages.map((dir) => dir.split(/[\\/]/).pop())], { cwd: root, stdio: 'inherit' });

mkdirSync(out, { recursive: true });
for (const dir of packages) {
  pruneOrphans(dir);
  const before = new Set(readdirSync(out));
  execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const made = readdirSync(out).filter((f) => f.endsWith('.tgz') && !before.has(f));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const expected = `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`;
  console.log(join(out, made[0] ?? expected));
}
