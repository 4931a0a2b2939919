import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { Cache, type CacheKey, type CacheOptions } from '../src/index.js';

// The root logger reads this when the first cache creates its child logger.
process.env.SNOOPY_LOG_LEVEL ??= 'silent';

/** A fresh directory under the OS temp dir, removed when the test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-cache-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a cache in a fresh directory (or `path`), closed when the test finishes. */
export async function openCache<V = unknown, K extends CacheKey = string>(
  options?: CacheOptions<V>,
  path: string = join(tempDir(), 'db'),
): Promise<Cache<V, K>> {
  const cache = await Cache.open<V, K>(path, options);
  onTestFinished(() => cache.close());
  return cache;
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}
