// Every package under packages/ is publishable as it is: the fields npm and users need, and a
// published exports map without the monorepo's source condition that loads the package's bundle
// (pnpm pack applies publishConfig).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const packages = readdirSync(join(root, 'packages')).filter((name) => existsSync(join(root, 'packages', name, 'package.json')));

describe.each(packages)('packages/%s/package.json', (name) => {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8')) as Record<string, any>;

  it('has the publish fields', () => {
    expect(pkg.name).toBe(`@snoopy/${name}`);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(pkg.description?.length).toBeGreaterThan(10);
    expect(pkg.license).toBe('MIT');
    expect(pkg.type).toBe('module');
    expect(pkg.engines?.node).toBe('>=20');
    expect(pkg.repository).toMatchObject({ type: 'git', directory: `packages/${name}` });
    expect(pkg.files).toContain('dist');
    expect(pkg.private).not.toBe(true);
  });

  it('publishes an exports map of built files only', () => {
    expect(pkg.exports['.']).toEqual({ 'snoopy-source': './src/index.ts', types: './dist/index.d.ts', 'snoopy-bundle': './dist/index.bundle.js', default: './dist/index.js' });
    expect(pkg.publishConfig).toMatchObject({ access: 'public', main: './dist/index.bundle.js' });
    // npm users load the one-file bundle (scripts/bundle.mjs, run by pack:all); `types` stay tsc's.
    expect(pkg.publishConfig.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.bundle.js' });
    expect(JSON.stringify(pkg.publishConfig.exports)).not.toContain('src/');
  });

  it('has a README', () => {
    expect(existsSync(join(root, 'packages', name, 'README.md'))).toBe(true);
  });
});
