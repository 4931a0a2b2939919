// SIGTERM in a child process: the stream stops pulling, the writer flushes, and every message
// the source saw acknowledged was sent. The child runs the compiled package (dist).
import { execFileSync, fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from './helpers.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));

beforeAll(() => {
  // Serialized with the other suites that build it (an unchanged build writes nothing).
  execFileSync('flock', [join(tmpdir(), 'snoopy-connect-build.lock'), 'npx', 'tsc', '-p', 'packages/connect'], { cwd: repo, stdio: 'pipe' });
}, 120_000);

function lines(file: string): number[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

describe('bufferedWriter in a stream on SIGTERM', () => {
  it('flushes everything before exit: every acknowledged message was sent', async () => {
    const dir = tempDir();
    const sent = join(dir, 'sent');
    const acked = join(dir, 'acked');
    const env = { ...process.env, SNOOPY_LOG_LEVEL: 'silent' };
    delete env.NODE_OPTIONS;
    const child = fork(join(fixtures, 'sigterm-child.mjs'), [sent, acked], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [], env });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const messages: { type: string; [k: string]: unknown }[] = [];
    child.on('message', (m: { type: string }) => messages.push(m));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!messages.some((m) => m.type === 'ready')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the child never became ready');
      await new Promise((r) => setTimeout(r, 10));
    }
    // Nothing was sent or acknowledged yet: the writer waits up to ten minutes.
    expect(lines(sent)).toEqual([]);
    expect(lines(acked)).toEqual([]);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const done = messages.find((m) => m.type === 'done');
    expect(done).toMatchObject({ type: 'done', reason: 'signal' });
    const sentNumbers = lines(sent);
    const ackedNumbers = lines(acked);
    expect(ackedNumbers.length).toBeGreaterThanOrEqual(50);
    expect(new Set(sentNumbers).size).toBe(sentNumbers.length);
    expect([...ackedNumbers].sort((a, b) => a - b)).toEqual([...sentNumbers].sort((a, b) => a - b));
    expect(done!.sent).toBe(sentNumbers.length);
  });
});
