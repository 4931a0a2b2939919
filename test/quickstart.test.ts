// The README's main job: examples/quickstart, run with node, prints Hello 0 ... Hello 4.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');

it('examples/quickstart prints Hello 0 to Hello 4', async () => {
  await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'examples/quickstart'], { cwd: root });
  const { stdout } = await run(process.execPath, [join(root, 'examples', 'quickstart', 'dist', 'main.js')], { cwd: root, timeout: 30_000 });
  expect(stdout.trim().split('\n')).toEqual(['Hello 0', 'Hello 1', 'Hello 2', 'Hello 3', 'Hello 4']);
});
