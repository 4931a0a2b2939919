// Typed snaps with real Kafka Topics and Caches: fixtures/typed-snaps/src/*.test-d.ts compiled by
// the real tsc. A case that must not compile carries `// @ts-expect-error`, which tsc reports as
// unused if the case compiles after all. (Core's own cases: packages/core/test/types.test.ts.)
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
// tsc on a loaded 2-core machine: generous.
const timeoutMs = 300_000;

it('checks handlers against Topic and Cache sources and sinks', { timeout: timeoutMs + 10_000 }, async () => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const { code, output } = await new Promise<{ code: number | null; output: string }>((done, reject) => {
    const child = execFile(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'test/fixtures/typed-snaps/tsconfig.json'],
      { cwd: root, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && (error as { killed?: boolean }).killed === true) reject(new Error(`tsc did not finish within ${timeoutMs} ms`));
        else done({ code: child.exitCode, output: stdout + stderr });
      },
    );
  });
  expect(output, 'tsc -p test/fixtures/typed-snaps').toBe('');
  expect(code).toBe(0);
});
