// Every TypeScript block in README.md and packages/*/README.md is compiled with tsc and run with
// node, in a fresh temporary directory; a block's
// `// => text` lines are what it must print, in that order. The shell blocks are the set-up
// commands, which CI runs itself (.ci/run); here we check they are the ones CI runs.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const dir = join(root, 'test', 'readme');

interface Block {
  lang: string;
  code: string;
  line: number;
  file: string;
}

function codeBlocks(markdown: string, file: string): Block[] {
  const blocks: Block[] = [];
  const re = /^```(\w*)[^\n]*\n([\s\S]*?)^```/gm;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) {
    blocks.push({ lang: m[1]!, code: m[2]!, line: markdown.slice(0, m.index).split('\n').length, file });
  }
  return blocks;
}

const readmes = ['README.md'];
for (const pkg of await readdir(join(root, 'packages'))) {
  const file = join('packages', pkg, 'README.md');
  if (await readFile(join(root, file), 'utf8').then(() => true, () => false)) readmes.push(file);
}
const blocks: Block[] = [];
for (const file of readmes) blocks.push(...codeBlocks(await readFile(join(root, file), 'utf8'), file));
const tsBlocks = blocks.filter((b) => b.lang === 'ts');

describe('README', () => {
  beforeAll(async () => {
    await rm(join(dir, '.blocks'), { recursive: true, force: true });
    await rm(join(dir, '.blocks-dist'), { recursive: true, force: true });
    await mkdir(join(dir, '.blocks'), { recursive: true });
    await Promise.all(tsBlocks.map((b, i) => writeFile(join(dir, '.blocks', `block-${i}.ts`), b.code)));
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: root });
  }, 120_000);

  it('has the two set-up commands CI runs', () => {
    const shell = blocks.filter((b) => b.lang === 'sh' && b.file === 'README.md').map((b) => b.code.trim());
    expect(shell).toContain('bash .ci/install && pnpm quickstart');
    expect(shell).toContain('pnpm test');
  });

  it('has TypeScript examples', () => {
    expect(tsBlocks.length).toBeGreaterThan(0);
  });

  for (const [i, block] of tsBlocks.entries()) {
    it(`runs the example at ${block.file} line ${block.line}`, async () => {
      const expected = [...block.code.matchAll(/^\s*\/\/ => (.*)$/gm)].map((m) => m[1]!.trim());
      const cwd = await mkdtemp(join(tmpdir(), 'snoopy-readme-'));
      onTestFinished(() => rm(cwd, { recursive: true, force: true }));
      const { stdout } = await run(process.execPath, [join(dir, '.blocks-dist', `block-${i}.js`)], {
        cwd,
        timeout: 60_000,
        env: { ...process.env, SNOOPY_LOG_LEVEL: 'warn' },
      });
      const lines = stdout.split('\n').map((l) => l.trim());
      let at = 0;
      for (const want of expected) {
        const found = lines.indexOf(want, at);
        expect(found, `expected "${want}" in output:\n${stdout}`).toBeGreaterThanOrEqual(0);
        at = found + 1;
      }
    });
  }
});
