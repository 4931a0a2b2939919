#!/usr/bin/env node
// `node scripts/bundle.mjs [name ...]` (names: `core kafka`, default every package): bundles each
// built package (run `tsc -b` first) into one ES module, `dist/index.bundle.js`, with its source
// map chained to the TypeScript sources. The package's own modules are inlined; every dependency
// (`@snoopy/*` included) stays an import. What npm users load (publishConfig) and what the
// benches' worker processes load (`--conditions=snoopy-bundle`): one file instead of one per
// module saves most of a package's import time (bench/results/startup.md). The monorepo itself
// keeps resolving `dist/index.js`, which `tsc -b` always keeps current.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const names = process.argv.slice(2);
const packages = readdirSync(join(root, 'packages'))
  .filter((name) => existsSync(join(root, 'packages', name, 'package.json')))
  .filter((name) => names.length === 0 || names.includes(name));
if (packages.length === 0) throw new Error(`bundle: no package matches ${names.join(' ')}`);

for (const name of packages) {
  const dir = join(root, 'packages', name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const entry = join(dir, 'dist', 'index.js');
  if (!existsSync(entry)) throw new Error(`bundle: ${pkg.name} is not built (${entry} is missing): run \`tsc -b\` first`);
  await build({
    entryPoints: [entry],
    outfile: join(dir, 'dist', 'index.bundle.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}
