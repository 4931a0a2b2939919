// The built `snoopy` bin: exit codes 0 (done), 1 (the work failed, one line with the code), 2 (bad command line).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it, onTestFinished } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');

async function snoopyBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [bin, ...args], { cwd: root, timeout: 60_000, env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: '' } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

beforeAll(async () => {
  await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/cli'], { cwd: root });
}, 300_000);

it('exits 0 for --help, 2 for a bad command line, 1 with one line naming the code when the work fails', async () => {
  const help = await snoopyBin(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: snoopy <command>');

  const usage = await snoopyBin(['tail']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('snoopy tail: missing <topic>');

  const dir = await mkdtemp(join(tmpdir(), 'snoopy-bin-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const failed = await snoopyBin(['cache', join(dir, 'none'), 'stats']);
  expect(failed.code).toBe(1);
  expect(failed.stderr.trim()).toBe(`snoopy: SNOOPY_CLI_INPUT: No cache at ${join(dir, 'none')} (no LevelDB CURRENT file)`);
});
