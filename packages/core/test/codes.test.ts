// The one table of error codes against the code that throws them: every code in
// packages/core/src/codes.ts must be thrown somewhere in some package's src, or it is a promise
// (a documented code a caller branches on) that nothing keeps. Codes other packages add are
// checked too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '@snoopy/core';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const tableFile = 'packages/core/src/codes.ts';

interface SourceFile {
  readonly path: string;
  readonly text: string;
}

function sourceFiles(): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push({ path: relative(repoRoot, full), text: readFileSync(full, 'utf8') });
    }
  };
  const packages = join(repoRoot, 'packages');
  for (const pkg of readdirSync(packages)) {
    const src = join(packages, pkg, 'src');
    try {
      if (statSync(src).isDirectory()) walk(src);
    } catch {
      // a package without src (yet): nothing of it can throw
    }
  }
  return files.filter((f) => f.path !== tableFile);
}

/** Source text without comments, so a code named in a comment does not count. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Where `code` is used to make an error: a string literal of it that is not a comparison
 * (`code === 'X'`), not a member of a type union (`'X' | 'Y'`), and, when it is passed to `super`
 * inside an error class, only if that class is constructed (`new Class(`) somewhere.
 */
export function throwSites(code: string, files: readonly SourceFile[]): string[] {
  const stripped = files.map((f) => ({ path: f.path, text: withoutComments(f.text) }));
  const sites: string[] = [];
  const literal = new RegExp(`(['"\`])${escape(code)}\\1`, 'g');
  for (const file of stripped) {
    for (const match of file.text.matchAll(literal)) {
      const at = match.index;
      const before = file.text.slice(Math.max(0, at - 60), at);
      const after = file.text.slice(at + match[0].length, at + match[0].length + 20);
      if (/(===|!==|==|!=|\bcase)\s*$/.test(before) || /^\s*(===|!==|==|!=)/.test(after)) continue;
      if (/\|\s*$/.test(before) || /^\s*\|(?!\|)/.test(after)) continue;
      if (/\bsuper\(\s*$/.test(before)) {
        const classes = [...file.text.slice(0, at).matchAll(/\bclass\s+(\w+)/g)];
        const owner = classes.at(-1)?.[1];
        if (owner === undefined) continue;
        const made = new RegExp(`\\bnew\\s+${escape(owner)}\\s*[(<]`);
        const where = stripped.find((f) => made.test(f.text));
        if (where !== undefined) sites.push(`${file.path} (class ${owner}, made in ${where.path})`);
        continue;
      }
      sites.push(file.path);
    }
  }
  return sites;
}

describe('the error table against the code', () => {
  it(`every code in ${tableFile} is thrown somewhere in packages/*/src`, () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(10);
    const unused = Object.keys(errorCodes).filter((code) => throwSites(code, files).length === 0);
    expect(
      unused,
      `Codes in ${tableFile} that no package's src throws: ${unused.join(', ')}. ` +
        `Throw each where its failure happens (new SnoopyError('<code>', ...) or an error class that is constructed), ` +
        `or remove it from the table.`,
    ).toEqual([]);
  });

  it('the scan can fail: a code only in a table, a comparison, a type, a comment or an unmade class is not thrown', () => {
    const files: SourceFile[] = [
      { path: 'a.ts', text: "const table = { SNOOPY_X_A: 1 };\n// throw new SnoopyError('SNOOPY_X_B', 'in a comment')\n" },
      { path: 'b.ts', text: "if (e.code === 'SNOOPY_X_C') retry();\ntype T = 'SNOOPY_X_D' | 'SNOOPY_X_E';\n" },
      { path: 'c.ts', text: "class Unmade extends SnoopyError { constructor() { super('SNOOPY_X_F', 'never made'); } }\n" },
      { path: 'd.ts', text: "class Made extends SnoopyError { constructor() { super('SNOOPY_X_G', 'made'); } }\nthrow new SnoopyError('SNOOPY_X_H', 'x');\n" },
      { path: 'e.ts', text: 'const m = new Made();\nconst url = "http://example" // SNOOPY_X_A\n' },
    ];
    const thrown = (code: string): boolean => throwSites(code, files).length > 0;
    expect(['A', 'B', 'C', 'D', 'E', 'F'].map((c) => thrown(`SNOOPY_X_${c}`))).toEqual([false, false, false, false, false, false]);
    expect(thrown('SNOOPY_X_G')).toBe(true);
    expect(thrown('SNOOPY_X_H')).toBe(true);
  });
});
