// Cross-process behaviour: locking and crash consistency. The other process runs the compiled
// package (packages/cache/dist), built once before these tests.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Cache, CacheLockedError } from '../src/index.js';
import { tempDir } from './helpers.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b', 'packages/cache'], { cwd: repo, stdio: 'pipe' });
});

interface Message {
  type?: string;
  [key: string]: unknown;
}

function spawnChild(script: string, path: string): ChildProcess {
  // Plain node: not the test runner's flags (its resolve conditions point at TypeScript sources).
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = fork(join(fixtures, script), [path], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [], env });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

function nextMessage(child: ChildProcess): Promise<Message> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`child exited (${code}) before answering`));
    child.once('exit', onExit);
    child.once('message', (msg: Message) => {
      child.off('exit', onExit);
      resolve(msg);
    });
  });
}

async function request(child: ChildProcess, msg: object): Promise<Message> {
  const answer = nextMessage(child);
  child.send(msg);
  return answer;
}

describe('Cache across processes', () => {
  it('a second process fails with SNOOPY_CACHE_LOCKED naming the path; the first keeps working', async () => {
    const path = join(tempDir(), 'db');
    await using cache = await Cache.open<number>(path);
    await cache.set('before', 1);

    const child = spawnChild('child.mjs', path);
    const answer = await nextMessage(child);
    expect(answer).toMatchObject({ type: 'error', name: 'CacheLockedError', code: 'SNOOPY_CACHE_LOCKED', path: cache.path });
    expect(answer.message).toContain(cache.path);

    await cache.set('after', 2);
    expect(cache.getMany(['before', 'after'])).toEqual([1, 2]);
    expect(await cache.wait('after')).toBe(2);

    // The lock is still held: another process still fails.
    const again = spawnChild('child.mjs', path);
    expect(await nextMessage(again)).toMatchObject({ code: 'SNOOPY_CACHE_LOCKED' });
  });

  it('fails here with a typed error while another process holds the path; the holder keeps working', async () => {
    const path = join(tempDir(), 'db');
    const child = spawnChild('child.mjs', path);
    expect(await nextMessage(child)).toEqual({ type: 'opened' });

    const error = await Cache.open(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CacheLockedError);
    expect((error as CacheLockedError).code).toBe('SNOOPY_CACHE_LOCKED');
    expect((error as CacheLockedError).message).toContain(path);
    // A cache made with `new` reports the same error on its first use.
    const lazy = new Cache<number>(path);
    await expect(lazy.set('x', 1)).rejects.toBeInstanceOf(CacheLockedError);
    expect(() => lazy.get('x')).toThrow(CacheLockedError);
    await lazy.close();

    expect(await request(child, { cmd: 'set', key: 'k', value: 42 })).toEqual({ type: 'ok' });
    expect(await request(child, { cmd: 'get', key: 'k' })).toEqual({ type: 'value', value: 42 });
    expect(await request(child, { cmd: 'close' })).toEqual({ type: 'closed' });
    await once(child, 'exit');

    // Released: now this process can open it and sees the child's write.
    await using cache = await Cache.open<number>(path);
    expect(cache.get('k')).toBe(42);
  });

  it('opening a path twice in this process keeps the LevelDB lock (no second LevelDB open)', async () => {
    const path = join(tempDir(), 'db');
    await using first = await Cache.open<number>(path);
    const second = await Cache.open<number>(path);
    await second.set('shared', 1);
    await second.close();
    expect(first.get('shared')).toBe(1);
    const child = spawnChild('child.mjs', path);
    expect(await nextMessage(child)).toMatchObject({ code: 'SNOOPY_CACHE_LOCKED' });
  });

  it('keeps every acknowledged sink write after the writer is killed with SIGKILL', async () => {
    const path = join(tempDir(), 'db');
    const child = spawnChild('writer.mjs', path);
    const acked = new Set<number>();
    const failures: unknown[] = [];
    child.on('message', (msg: { acked?: number[]; failed?: number }) => {
      if (msg.acked) for (const i of msg.acked) acked.add(i);
      if (msg.failed !== undefined) failures.push(msg);
      if (acked.size >= 20_000 && child.signalCode === null) child.kill('SIGKILL');
    });
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect(signal).toBe('SIGKILL');
    expect(code).toBeNull();
    expect(failures).toEqual([]);
    expect(acked.size).toBeGreaterThanOrEqual(20_000);

    await using cache = await Cache.open<{ i: number; text: string }>(path);
    const missing: number[] = [];
    for (const i of acked) {
      const value = cache.get(`k${i}`);
      if (value?.i !== i || value.text !== `value ${i}`.repeat(1 + (i % 7))) missing.push(i);
    }
    expect(missing).toEqual([]);
  });
});
