import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonCodec, type Codec } from '@snoopy/codecs';
import { Cache, CacheNotOpenError, type CacheKey } from '../src/index.js';
import { collect, openCache, tempDir } from './helpers.js';

describe('Cache: reads and writes', () => {
  it('is a function with methods, and an instance of Cache', async () => {
    const cache = await openCache();
    expect(typeof cache).toBe('function');
    expect(cache).toBeInstanceOf(Cache);
    expect(typeof cache.get).toBe('function');
    expect(typeof cache.call).toBe('function');
  });

  it('sets, gets, has, getMany and deletes; get is synchronous and undefined when missing', async () => {
    const cache = await openCache<{ n: number }>();
    expect(cache.get('a')).toBeUndefined();
    await cache.set('a', { n: 1 });
    await cache.set('b', { n: 2 });
    expect(cache.get('a')).toEqual({ n: 1 });
    expect(cache.has('a')).toBe(true);
    expect(cache.has('z')).toBe(false);
    expect(cache.getMany(['a', 'z', 'b'])).toEqual([{ n: 1 }, undefined, { n: 2 }]);
    await cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.has('a')).toBe(false);
  });

  it('sees its own writes at once, before their batch is written', async () => {
    const cache = await openCache<string>();
    const written = cache.set('k', 'v1');
    expect(cache.stats().pending).toBe(1);
    expect(cache.get('k')).toBe('v1');
    const deleted = cache.delete('k');
    expect(cache.get('k')).toBeUndefined();
    expect(cache.has('k')).toBe(false);
    void cache.set('k', 'v2');
    expect(cache.get('k')).toBe('v2');
    await written;
    await deleted;
    await cache.flush();
    expect(cache.stats().pending).toBe(0);
    expect(cache.get('k')).toBe('v2');
  });

  it('keeps typed keys apart: 123, "123" and Buffer("123")', async () => {
    const cache = await openCache<string, CacheKey>();
    await cache.set(123, 'number');
    await cache.set('123', 'string');
    await cache.set(Buffer.from('123'), 'buffer');
    expect(cache.get(123)).toBe('number');
    expect(cache.get('123')).toBe('string');
    expect(cache.get(Buffer.from('123'))).toBe('buffer');
    expect(cache.get(new Uint8Array([0x31, 0x32, 0x33]) as Buffer)).toBe('buffer');
    const keys = await collect(cache.keys());
    expect(keys).toEqual([123, '123', Buffer.from('123')]);
    expect(typeof keys[0]).toBe('number');
  });

  it('iterates in the documented order: numbers numerically, then strings, then Buffers', async () => {
    const cache = await openCache<number, CacheKey>();
    const keys: CacheKey[] = ['b', 10, -2.5, Buffer.from([0xff]), 'a', 2, -10, 0.25, 'ab', Buffer.from([0x00]), '', 'é', 'z'];
    await cache.batch(keys.map((key, i) => ({ type: 'set' as const, key, value: i })));
    expect(await collect(cache.keys())).toEqual([-10, -2.5, 0.25, 2, 10, '', 'a', 'ab', 'b', 'z', 'é', Buffer.from([0x00]), Buffer.from([0xff])]);
  });

  it('round-trips values through a binary codec that is not UTF-8', async () => {
    const bytes: Codec<Buffer> = { name: 'raw', encode: (v) => v, decode: (b) => Buffer.from(b) };
    const cache = await openCache<Buffer>({ codec: bytes });
    const value = Buffer.from([0, 0xff, 0xc3, 0x28, 0x80, 0x7f]);
    await cache.set('bin', value);
    expect(cache.get('bin')).toEqual(value);
    expect(await collect(cache.values())).toEqual([value]);
  });

  it('fails a value it cannot encode with the codec error, and rejects undefined', async () => {
    const cache = await openCache<unknown>();
    await expect(cache.set('f', () => 1)).rejects.toMatchObject({ code: 'SNOOPY_CODEC_ENCODE' });
    await expect(cache.set('u', undefined)).rejects.toMatchObject({ code: 'SNOOPY_OPTIONS_INVALID' });
    await expect(cache.set(NaN as unknown as string, 1)).rejects.toMatchObject({ code: 'SNOOPY_CACHE_KEY' });
    expect(cache.get('f')).toBeUndefined();
  });

  it('writes with fsync when sync: true, and the writes are there after a reopen', async () => {
    const path = join(tempDir(), 'db');
    const cache = await Cache.open<number>(path, { sync: true });
    await Promise.all([cache('a', 1), cache.set('b', 2), cache.batch([{ type: 'set', key: 'c', value: 3 }])]);
    await cache.close();
    await using reopened = await Cache.open<number>(path);
    expect(reopened.getMany(['a', 'b', 'c'])).toEqual([1, 2, 3]);
  });

  it('throws SNOOPY_CACHE_NOT_OPEN for a synchronous read before open, then works', async () => {
    const cache = new Cache<number>(join(tempDir(), 'db'));
    try {
      expect(() => cache.get('a')).toThrow(CacheNotOpenError);
      const written = cache.set('a', 1); // async writes wait for the open
      await cache.open();
      await written;
      expect(cache.get('a')).toBe(1);
    } finally {
      await cache.close();
    }
  });
});

describe('Cache: ranges', () => {
  async function filled(): Promise<Cache<number, CacheKey>> {
    const cache = await openCache<number, CacheKey>();
    const ops = [];
    for (let i = 0; i < 10; i++) ops.push({ type: 'set' as const, key: i, value: i });
    for (const s of ['app', 'apple', 'apricot', 'banana', 'b']) ops.push({ type: 'set' as const, key: s, value: s.length });
    await cache.batch(ops);
    return cache;
  }

  it('supports gt/gte/lt/lte, reverse and limit', async () => {
    const cache = await filled();
    expect(await collect(cache.keys({ gte: 3, lt: 6 }))).toEqual([3, 4, 5]);
    expect(await collect(cache.keys({ gt: 3, lte: 6 }))).toEqual([4, 5, 6]);
    expect(await collect(cache.keys({ gt: 3, lte: 6, reverse: true }))).toEqual([6, 5, 4]);
    expect(await collect(cache.keys({ gte: 0, limit: 2 }))).toEqual([0, 1]);
    expect(await collect(cache.keys({ reverse: true, limit: 2 }))).toEqual(['banana', 'b']);
    expect(await collect(cache.keys({ gte: 8, lt: 'b' }))).toEqual([8, 9, 'app', 'apple', 'apricot']);
    expect(await collect(cache.keys({ limit: 0 }))).toEqual([]);
  });

  it('supports prefix, alone and combined with bounds', async () => {
    const cache = await filled();
    expect(await collect(cache.entries({ prefix: 'ap' }))).toEqual([
      ['app', 3],
      ['apple', 5],
      ['apricot', 7],
    ]);
    expect(await collect(cache.keys({ prefix: 'ap', gt: 'app' }))).toEqual(['apple', 'apricot']);
    expect(await collect(cache.keys({ prefix: 'ap', reverse: true, limit: 1 }))).toEqual(['apricot']);
    expect(await collect(cache.keys({ prefix: 'zz' }))).toEqual([]);
  });

  it('supports Buffer prefixes', async () => {
    const cache = await openCache<number, CacheKey>();
    await cache.batch([
      { type: 'set', key: Buffer.from([1, 2, 3]), value: 1 },
      { type: 'set', key: Buffer.from([1, 2, 0xff]), value: 2 },
      { type: 'set', key: Buffer.from([1, 3]), value: 3 },
      { type: 'set', key: '\x01\x02', value: 4 },
    ]);
    expect(await collect(cache.values({ prefix: Buffer.from([1, 2]) }))).toEqual([1, 2]);
  });

  it('iterates a snapshot: writes during iteration are not seen, own queued writes before it are', async () => {
    const cache = await openCache<number>();
    await cache.batch([
      { type: 'set', key: 'a', value: 1 },
      { type: 'set', key: 'b', value: 2 },
    ]);
    void cache.set('c', 3); // queued, not yet written: the snapshot must include it
    const seen: [string, number][] = [];
    for await (const entry of cache) {
      seen.push(entry);
      if (entry[0] === 'a') {
        await cache.set('d', 4);
        await cache.delete('b');
      }
    }
    expect(seen).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    expect(await collect(cache.keys())).toEqual(['a', 'c', 'd']);
  });

  it('releases the LevelDB iterator when the consumer breaks early', async () => {
    const cache = await openCache<number>();
    await cache.batch(Array.from({ length: 600 }, (_, i) => ({ type: 'set' as const, key: `k${String(i).padStart(3, '0')}`, value: i })));
    const iterator = cache.entries();
    const first = await iterator.next();
    expect(first.value).toEqual(['k000', 0]);
    await iterator.return(undefined);
    // The generator ran its finally (which closes the LevelDB iterator): it is done for good.
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    for await (const _ of cache) break;
    // Every write queued after an early break still goes through, and close() completes.
    await cache.set('after', 1);
    await cache.close();
  });

  it('deleteRange removes exactly the range, after writes queued before it', async () => {
    const cache = await filled();
    void cache.set(4.5, 45);
    await cache.deleteRange({ gte: 3, lt: 7 });
    expect(await collect(cache.keys({ lt: 'a' }))).toEqual([0, 1, 2, 7, 8, 9]);
    await cache.deleteRange({ prefix: 'ap' });
    expect(await collect(cache.keys({ gte: 'a' }))).toEqual(['b', 'banana']);
    await cache.deleteRange({});
    expect(await collect(cache.keys())).toEqual([]);
  });

  it('fails a bad range at the call with SNOOPY_OPTIONS_INVALID', async () => {
    const cache = await openCache();
    expect(() => cache.entries({ limit: -1 })).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
    expect(() => cache.entries({ prefix: 5 as unknown as string })).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
    expect(() => cache.entries({ gt: {} as unknown as string })).toThrow(expect.objectContaining({ code: 'SNOOPY_CACHE_KEY' }));
  });
});

describe('Cache: batch and namespaces', () => {
  it('writes a batch atomically: one bad operation and nothing is written', async () => {
    const cache = await openCache<number>();
    await cache.set('keep', 1);
    await expect(
      cache.batch([
        { type: 'set', key: 'x', value: 1 },
        { type: 'delete', key: 'keep' },
        { type: 'set', key: 'y', value: undefined as unknown as number },
      ]),
    ).rejects.toMatchObject({ code: 'SNOOPY_OPTIONS_INVALID' });
    expect(cache.get('x')).toBeUndefined();
    expect(cache.get('keep')).toBe(1);
    await cache.flush();
    expect(await collect(cache.keys())).toEqual(['keep']);
  });

  it('never splits a batch across LevelDB batches, whatever batchSize', async () => {
    const cache = await openCache<number>({ batchSize: 2 });
    const before = cache.stats().batches;
    await cache.batch(Array.from({ length: 10 }, (_, i) => ({ type: 'set' as const, key: `k${i}`, value: i })));
    expect(cache.stats().batches - before).toBe(1);
    expect(cache.stats().writes).toBe(10);
  });

  it('keeps namespaces apart, each with its own codec and key order', async () => {
    const cache = await openCache<number, CacheKey>();
    const users = cache.namespace<{ name: string }>('users');
    const raw = cache.namespace<string>('raw', {
      codec: { name: 'text', encode: (s: string) => Buffer.from(s), decode: (b) => Buffer.from(b).toString() },
    });
    const nested = users.namespace<number>('archive');
    await cache.set('a', 1);
    await users.set('a', { name: 'Ada' });
    await raw.set('a', 'text');
    await nested.set('a', 2);
    expect(cache.get('a')).toBe(1);
    expect(users.get('a')).toEqual({ name: 'Ada' });
    expect(raw.get('a')).toBe('text');
    expect(nested.get('a')).toBe(2);
    expect(nested.namespaceName).toBe('users/archive');
    expect(cache.namespace('users/archive').get('a')).toBe(2);
    expect(await collect(cache.entries())).toEqual([['a', 1]]);
    expect(await collect(users.entries())).toEqual([['a', { name: 'Ada' }]]);
    await users.deleteRange({});
    expect(users.get('a')).toBeUndefined();
    expect(nested.get('a')).toBe(2);
    expect(cache.get('a')).toBe(1);
  });

  it('writes one batch atomically across namespaces', async () => {
    const cache = await openCache<number>();
    const orders = cache.namespace<{ total: number }>('orders');
    const counts = cache.namespace<number>('counts');
    const before = cache.stats().batches;
    await cache.batch([
      { type: 'set', key: 'last', value: 7 },
      { type: 'set', namespace: orders, key: 'o1', value: { total: 7 } },
      { type: 'set', namespace: counts, key: 'orders', value: 1 },
    ]);
    expect(cache.stats().batches - before).toBe(1);
    expect(orders.get('o1')).toEqual({ total: 7 });
    expect(counts.get('orders')).toBe(1);
    // A failing op in another namespace fails the whole batch.
    await expect(
      cache.batch([
        { type: 'set', key: 'last', value: 8 },
        { type: 'set', namespace: orders, key: 'o2', value: (() => 0) as unknown as { total: number } },
      ]),
    ).rejects.toMatchObject({ code: 'SNOOPY_CODEC_ENCODE' });
    expect(cache.get('last')).toBe(7);
    // A cache on another directory is not a namespace of this one.
    const other = await openCache<number>();
    await expect(cache.batch([{ type: 'set', namespace: other, key: 'x', value: 1 }])).rejects.toMatchObject({
      code: 'SNOOPY_OPTIONS_INVALID',
    });
  });

  it('rejects bad namespace names', async () => {
    const cache = await openCache();
    expect(() => cache.namespace('')).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
    expect(() => cache.namespace('a\x00b')).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
  });
});

describe('Cache: wait', () => {
  it('resolves at once when the key has a value, and when it is set later', async () => {
    const cache = await openCache<number>();
    await cache.set('ready', 1);
    await expect(cache.wait('ready')).resolves.toBe(1);
    const waiting = cache.wait('later');
    const other = cache.wait('other');
    await cache.set('later', 2);
    await expect(waiting).resolves.toBe(2);
    await cache.set('other', 3);
    await expect(other).resolves.toBe(3);
  });

  it('fails with SNOOPY_TIMEOUT, SNOOPY_ABORTED, and SNOOPY_CLOSED on close', async () => {
    const cache = await openCache<number>();
    await expect(cache.wait('never', { timeout: 1 })).rejects.toMatchObject({ code: 'SNOOPY_TIMEOUT' });
    const controller = new AbortController();
    const aborted = cache.wait('never', { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toMatchObject({ code: 'SNOOPY_ABORTED' });
    await expect(cache.wait('never', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'SNOOPY_ABORTED' });
    // The expectation is attached before close(), so the rejection is never unhandled.
    const closing = expect(cache.wait('never')).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
    await cache.close();
    await closing;
  });

  it('does not resolve from another namespace', async () => {
    const cache = await openCache<number>();
    const ns = cache.namespace<number>('ns');
    const waiting = ns.wait('k', { timeout: 50 });
    await cache.set('k', 1);
    await expect(waiting).rejects.toMatchObject({ code: 'SNOOPY_TIMEOUT' });
  });
});

describe('Cache: lifecycle', () => {
  it('close() is idempotent, merges callers, flushes, and later calls fail with SNOOPY_CLOSED', async () => {
    const path = join(tempDir(), 'db');
    const cache = await Cache.open<number>(path);
    void cache.set('a', 1);
    const [p1, p2] = [cache.close(), cache.close()];
    expect(p1).toBe(p2);
    await p1;
    await cache.close();
    expect(() => cache.get('a')).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
    await expect(cache.set('a', 2)).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
    await expect(cache('a', 2)).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
    expect(() => cache.entries()).not.toThrow(); // lazily fails
    await expect(collect(cache.entries())).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
    const reopened = await Cache.open<number>(path);
    expect(reopened.get('a')).toBe(1);
    await reopened.close();
  });

  it('closes with await using ([Symbol.asyncDispose])', async () => {
    const path = join(tempDir(), 'db');
    let escaped: Cache<number> | undefined;
    {
      await using cache = await Cache.open<number>(path);
      escaped = cache;
      void cache.set('a', 1);
    }
    expect(() => escaped.get('a')).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
    await using reopened = await Cache.open<number>(path);
    expect(reopened.get('a')).toBe(1);
  });

  it('closing the root closes its namespaces; closing a namespace leaves the root open', async () => {
    const cache = await openCache<number>();
    const a = cache.namespace<number>('a');
    const b = cache.namespace<number>('b');
    await a.close();
    expect(() => a.get('x')).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
    await b.set('x', 1);
    await cache.close();
    expect(() => b.get('x')).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
  });

  it('shares one store for the same path in one process, closed by the last user', async () => {
    const dir = tempDir();
    const first = await Cache.open<number>(join(dir, 'db'));
    const second = await Cache.open<number>(join(dir, '.', 'db'));
    await first.set('a', 1);
    expect(second.get('a')).toBe(1);
    void second.set('b', 2);
    expect(first.get('b')).toBe(2); // the same pending writes
    await first.close();
    expect(second.get('b')).toBe(2);
    await second.set('c', 3);
    await second.close();
    const third = await Cache.open<number>(join(dir, 'db'));
    expect(third.getMany(['a', 'b', 'c'])).toEqual([1, 2, 3]);
    await third.close();
  });

  it('refuses different store options for a path already open in this process', async () => {
    const path = join(tempDir(), 'db');
    const first = await Cache.open(path, { batchSize: 10 });
    try {
      expect(() => new Cache(path, { batchSize: 20 })).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
      const same = new Cache(path, { batchSize: 10, codec: new JsonCodec() });
      await same.close();
    } finally {
      await first.close();
    }
  });

  it('validates options at construction', () => {
    const path = join(tempDir(), 'db');
    expect(() => new Cache(path, { batchSize: 0 })).toThrow('Expected `batchSize` to be an integer >= 1, got `0` (number)');
    expect(() => new Cache(path, { codec: {} as Codec<unknown> })).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
    expect(() => new Cache('')).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
  });
});
