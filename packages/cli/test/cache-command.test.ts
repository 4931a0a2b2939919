// snoopy cache <path> get|scan|stats on a real LevelDB directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cache } from '@snoopy/cache';
import { describe, expect, it, onTestFinished } from 'vitest';
import { snoopy } from './io.js';

async function filled(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'snoopy-cli-cache-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'db');
  const cache = await Cache.open<unknown, string | number>(path);
  await cache.set('user:1', { name: 'ann' });
  await cache.set('user:2', { name: 'bob' });
  await cache.set('order:9', { total: 10 });
  await cache.set(42, 'the answer');
  await cache.namespace<string>('sessions').set('s1', 'open');
  await cache.close();
  return path;
}

describe('snoopy cache', () => {
  it('get prints the value as JSON; a missing key is exit code 1', async () => {
    const path = await filled();
    expect(await snoopy(['cache', path, 'get', 'user:2'])).toMatchObject({ code: 0, stdout: '{"name":"bob"}\n' });
    expect(await snoopy(['cache', path, 'get', '42', '--number'])).toMatchObject({ code: 0, stdout: '"the answer"\n' });
    const missing = await snoopy(['cache', path, 'get', '42']); // the string "42" is another key
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no value for key "42"');
    expect(await snoopy(['cache', path, 'get', 's1', '--namespace', 'sessions'])).toMatchObject({ code: 0, stdout: '"open"\n' });
  });

  it('scan prints entries in key order, with ranges, prefixes, reverse and limits', async () => {
    const path = await filled();
    const all = await snoopy(['cache', path, 'scan']);
    expect(all.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { key: 42, value: 'the answer' },
      { key: 'order:9', value: { total: 10 } },
      { key: 'user:1', value: { name: 'ann' } },
      { key: 'user:2', value: { name: 'bob' } },
    ]);
    expect((await snoopy(['cache', path, 'scan', '--prefix', 'user:', '--keys'])).stdout).toBe('"user:1"\n"user:2"\n');
    expect((await snoopy(['cache', path, 'scan', '--keys', '--reverse', '--limit', '2'])).stdout).toBe('"user:2"\n"user:1"\n');
    expect((await snoopy(['cache', path, 'scan', '--keys', '--gte', 'order:', '--lt', 'user:2'])).stdout).toBe('"order:9"\n"user:1"\n');
  });

  it('stats counts the entries', async () => {
    const path = await filled();
    const ran = await snoopy(['cache', path, 'stats']);
    expect(ran.code).toBe(0);
    const stats = JSON.parse(ran.stdout) as { entries: number; diskBytes: number; namespace: string };
    expect(stats).toMatchObject({ entries: 4, namespace: '' });
    expect(stats.diskBytes).toBeGreaterThan(0);
    expect(JSON.parse((await snoopy(['cache', path, 'stats', '--namespace', 'sessions'])).stdout)).toMatchObject({ entries: 1 });
  });

  it('a path that holds no cache is SNOOPY_CLI_INPUT and creates nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snoopy-cli-cache-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await expect(snoopy(['cache', join(dir, 'nothing'), 'stats'])).rejects.toMatchObject({ code: 'SNOOPY_CLI_INPUT' });
    await expect(snoopy(['cache', join(dir, 'nothing'), 'scan'])).rejects.toThrow(/No cache at/);
  });
});
