import { describe, expect, it } from 'vitest';
import { Registry, deliver, flush, isDeferredSink, isFlushing, type Completion } from '@snoopy/core';
import { CacheSinkInputError } from '../src/index.js';
import { collect, openCache } from './helpers.js';

function completion(): Completion & { done: () => void; settled: Promise<'done' | unknown> } {
  let resolve!: (v: unknown) => void;
  const settled = new Promise<unknown>((r) => (resolve = r));
  return { done: () => resolve('done'), fail: (e: unknown) => resolve(e), settled };
}

describe('Cache as a sink', () => {
  it('stores cache([key, value]) and cache(key, value); the promise resolves once written', async () => {
    const cache = await openCache<number>();
    const a = cache(['a', 1]);
    const b = cache('b', 2);
    expect(cache.get('a')).toBe(1);
    expect(cache.stats().pending).toBe(2);
    await Promise.all([a, b]);
    expect(cache.stats().pending).toBe(0);
    expect(cache.stats().writes).toBe(2);
    expect(cache.stats().batches).toBe(1); // coalesced
  });

  it('fails anything but a [key, value] tuple with SNOOPY_CACHE_SINK_INPUT', async () => {
    const cache = await openCache<number>();
    for (const bad of [5, 'a', null, {}, [], ['only'], ['a', 1, 2], ['a', undefined]]) {
      const error = await (cache as unknown as (x: unknown) => Promise<void>)(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CacheSinkInputError);
      expect((error as CacheSinkInputError).message).toContain('Expected a [key, value] tuple');
    }
    await expect((cache as unknown as () => Promise<void>)()).rejects.toBeInstanceOf(CacheSinkInputError);
    await expect(cache({} as unknown as string, 1)).rejects.toMatchObject({ code: 'SNOOPY_CACHE_KEY' });
    expect(await collect(cache.keys())).toEqual([]);
  });

  it('implements core’s DeferredSink: completion.done() once durable, a sync throw for bad input', async () => {
    const cache = await openCache<number>();
    expect(isDeferredSink(cache)).toBe(true);
    expect(isFlushing(cache)).toBe(true);
    const c1 = completion();
    const c2 = completion();
    expect(cache[deliver](['x', 1], c1)).toBeUndefined();
    cache[deliver](['y', 2], c2);
    expect(cache.get('x')).toBe(1);
    await cache[flush]();
    expect(await c1.settled).toBe('done');
    expect(await c2.settled).toBe('done');
    expect(() => cache[deliver](42 as unknown as [string, number], completion())).toThrow(CacheSinkInputError);
  });

  it('asks core to wait when highWaterMark writes are outstanding', async () => {
    const cache = await openCache<number>({ highWaterMark: 3 });
    const c = completion();
    expect(cache[deliver](['a', 1], c)).toBeUndefined();
    expect(cache[deliver](['b', 2], c)).toBeUndefined();
    const wait = cache[deliver](['c', 3], c);
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    expect(cache.stats().pending).toBe(0);
  });

  it('is a snap sink and a snap source in core', async () => {
    const source = await openCache<number>();
    const target = await openCache<string>();
    await source.batch([1, 2, 3].map((n) => ({ type: 'set' as const, key: `k${n}`, value: n })));
    const registry = new Registry();
    registry.snap(source, { sink: target })(([key, value]: [string, number]) => [key.toUpperCase(), `v${value * 10}`]);
    await registry.stream({ handleSignals: false, progress: false, dispose: false });
    expect(await collect(target.entries())).toEqual([
      ['K1', 'v10'],
      ['K2', 'v20'],
      ['K3', 'v30'],
    ]);
  });

  it('fails the snap with the typed error when a handler returns something else', async () => {
    const target = await openCache<string>();
    const registry = new Registry();
    // @ts-expect-error: typed snaps refuse this at compile time; the run-time check is tested here
    registry.snap([1], { sink: target })((n: number) => n);
    const error = await registry.stream({ handleSignals: false, progress: false, dispose: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String((error as Error | undefined)?.message) + String((error as { cause?: Error } | undefined)?.cause?.message)).toContain(
      'Expected a [key, value] tuple',
    );
  });
});
