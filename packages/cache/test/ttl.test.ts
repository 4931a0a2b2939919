import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClassicLevel } from 'classic-level';
import { Cache } from '../src/index.js';
import { collect, manualClock, tempDir } from './helpers.js';

async function rawKeys(path: string): Promise<string[]> {
  const db = new ClassicLevel(path);
  try {
    return await db.keys().all();
  } finally {
    await db.close();
  }
}

describe('Cache: TTL', () => {
  it('hides an entry once it expires, in get, has, getMany, iteration and wait', async () => {
    const clock = manualClock();
    await using cache = await Cache.open<number>(join(tempDir(), 'db'), { clock: clock.now, sweepInterval: 0 });
    await cache.set('short', 1, { ttl: 1000 });
    await cache.set('long', 2, { ttl: 5000 });
    await cache.set('forever', 3);
    clock.advance(999);
    expect(cache.get('short')).toBe(1);
    clock.advance(1);
    expect(cache.get('short')).toBeUndefined();
    expect(cache.has('short')).toBe(false);
    expect(cache.getMany(['short', 'long', 'forever'])).toEqual([undefined, 2, 3]);
    expect(await collect(cache.keys())).toEqual(['forever', 'long']);
    expect(await collect(cache.entries())).toEqual([
      ['forever', 3],
      ['long', 2],
    ]);
    // wait() does not take an expired value
    await expect(cache.wait('short', { timeout: 20 })).rejects.toMatchObject({ code: 'SNOOPY_TIMEOUT' });
  });

  it('keeps the expiry across a reopen', async () => {
    const path = join(tempDir(), 'db');
    const clock = manualClock();
    const first = await Cache.open<string>(path, { clock: clock.now, sweepInterval: 0 });
    await first.set('session', 'abc', { ttl: 60_000 });
    await first.batch([{ type: 'set', key: 'batched', value: 'x', ttl: 10_000 }]);
    await first.close();

    clock.advance(30_000);
    const second = await Cache.open<string>(path, { clock: clock.now, sweepInterval: 0 });
    expect(second.get('session')).toBe('abc');
    expect(second.get('batched')).toBeUndefined();
    await second.close();

    clock.advance(30_000);
    const third = await Cache.open<string>(path, { clock: clock.now, sweepInterval: 0 });
    expect(third.get('session')).toBeUndefined();
    await third.close();
  });

  it('sweep() removes expired entries and their index from disk, and nothing else', async () => {
    const path = join(tempDir(), 'db');
    const clock = manualClock();
    const cache = await Cache.open<number>(path, { clock: clock.now, sweepInterval: 0 });
    const ns = cache.namespace<number>('ns');
    await cache.set('a', 1, { ttl: 100 });
    await ns.set('b', 2, { ttl: 100 });
    await cache.set('c', 3, { ttl: 100 });
    await cache.set('c', 4); // overwritten without TTL: must survive the sweep
    await cache.set('d', 5, { ttl: 100 });
    await cache.set('d', 6, { ttl: 10_000 }); // re-set with a later expiry
    await cache.set('e', 7);
    expect(await cache.sweep()).toBe(0);
    clock.advance(100);
    expect(await cache.sweep()).toBe(2);
    expect(cache.stats().expired).toBe(2);
    expect(cache.getMany(['a', 'c', 'd', 'e'])).toEqual([undefined, 4, 6, 7]);
    await cache.close();

    const keys = await rawKeys(path);
    // Left: c, d, e and d's index record.
    expect(keys.filter((k) => k.startsWith('\x00'))).toHaveLength(3);
    expect(keys.filter((k) => k.startsWith('\x01'))).toHaveLength(1);

    clock.advance(10_000);
    const reopened = await Cache.open<number>(path, { clock: clock.now, sweepInterval: 0 });
    expect(await reopened.sweep()).toBe(1);
    await reopened.close();
    expect((await rawKeys(path)).length).toBe(2);
  });

  it('sweeps periodically on its own', async () => {
    const path = join(tempDir(), 'db');
    const clock = manualClock();
    const cache = await Cache.open<number>(path, { clock: clock.now, sweepInterval: 5 });
    await cache.set('a', 1, { ttl: 10 });
    clock.advance(10);
    while (cache.stats().expired === 0) await new Promise((r) => setTimeout(r, 5));
    await cache.close();
    expect(await rawKeys(path)).toEqual([]);
  });

  it('rejects a bad ttl', async () => {
    await using cache = await Cache.open<number>(join(tempDir(), 'db'));
    for (const ttl of [0, -1, NaN, Infinity, '5']) {
      await expect(cache.set('a', 1, { ttl: ttl as number })).rejects.toMatchObject({ code: 'SNOOPY_OPTIONS_INVALID' });
    }
    expect(cache.get('a')).toBeUndefined();
  });
});
