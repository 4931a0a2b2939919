// examples/http-to-writer, built and run with node: pages through a local API with 429s into a
// buffered writer that POSTs batches to a second local server with 503s.
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');

describe('examples/http-to-writer', () => {
  test('copies every item once, in order, through 429s and 503s', { timeout: 240_000 }, async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    // Serialized with the other suites that build packages/connect (an unchanged build writes nothing).
    const lock = join(tmpdir(), 'snoopy-connect-build.lock');
    await run('flock', [lock, process.execPath, tsc, '-p', 'packages/connect'], { cwd: root });
    await run('flock', [lock, process.execPath, tsc, '-p', 'examples/http-to-writer'], { cwd: root });
    const { stdout } = await run(process.execPath, [join(root, 'examples', 'http-to-writer', 'dist', 'main.js')], {
      cwd: root,
      timeout: 120_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, SNOOPY_LOG_LEVEL: 'silent', NODE_OPTIONS: '' },
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^read 250 items from the API \((\d+) answers were 429\)$/);
    expect(Number(/\((\d+) answers were 429/.exec(lines[0]!)![1])).toBeGreaterThan(0);
    expect(lines[1]).toBe('sink received 250 of 250 items, none twice, in order');
    expect(lines[2]).toMatch(/^\d+ batches of at most 40 records and 4096 bytes; [1-9]\d* POSTs answered 503 and were retried \([1-9]\d* retries\)$/);
    expect(lines[3]).toBe('progress: 250/250');
  });
});
