import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Cache } from '@snoopy/cache';
import { postgresUrl, redisUrl } from '../../../test/setup/services-helpers.js';
import { feed, levelStore, postgresStore, redisStore, type Feed, type FeedOptions, type FeedStore } from '../src/index.js';

process.env.SNOOPY_LOG_LEVEL ??= 'silent';

export const randomName = (prefix: string): string => `${prefix}_${randomBytes(6).toString('hex')}`;

/** A fresh directory under the OS temp dir, removed when the test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-feed-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface StoreKind {
  readonly name: 'level' | 'redis' | 'postgres';
  /** Whether the server is there (false only outside CI, where the suite then skips). */
  readonly available: boolean;
  /** A fresh store (new directory, key prefix or schema), cleaned up when the test finishes. */
  create(options?: Record<string, unknown>): Promise<FeedStore>;
  /** A fresh store and its clean-up (closes its client or pool and drops its data), to call yourself. */
  open(options?: Record<string, unknown>): Promise<{ store: FeedStore; dispose(): Promise<void> }>;
}

function kindOf(name: StoreKind['name'], available: boolean, open: StoreKind['open']): StoreKind {
  return {
    name,
    available,
    open,
    async create(options) {
      const { store, dispose } = await open(options);
      onTestFinished(dispose);
      return store;
    },
  };
}

export const level: StoreKind = kindOf('level', true, async (options = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-feed-test-'));
  const cache = await Cache.open(join(dir, 'db'), { sweepInterval: 0 });
  return {
    store: levelStore(cache, { namespace: randomName('feed'), ...options }),
    async dispose() {
      await cache.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const redisAt = redisUrl();
export const redis: StoreKind = kindOf('redis', redisAt !== undefined, async (options = {}) => {
  const client = new Redis(redisAt!, { maxRetriesPerRequest: 3 });
  const prefix = randomName('feed');
  return {
    store: redisStore(client, { prefix, ...options }),
    async dispose() {
      const keys = await client.keys(`${prefix}:*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    },
  };
});

const postgresAt = postgresUrl();
export const postgres: StoreKind = kindOf('postgres', postgresAt !== undefined, async (options = {}) => {
  const pool = new pg.Pool({ connectionString: postgresAt!, max: 4 });
  const schema = randomName('feed');
  return {
    store: postgresStore(pool, { schema, ...options }),
    async dispose() {
      await pool.query(`drop schema if exists "${schema}" cascade`);
      await pool.end();
    },
  };
});

export const storeKinds: readonly StoreKind[] = [level, redis, postgres];

/** A feed on a fresh store of `kind`, closed when the test finishes. */
export async function openFeed<T extends object = Record<string, unknown>>(
  kind: StoreKind,
  options: Omit<FeedOptions<T>, 'store'> & { store?: FeedStore },
  storeOptions?: Record<string, unknown>,
): Promise<Feed<T>> {
  const store = options.store ?? (await kind.create(storeOptions));
  const f = feed<T>({ ...options, store });
  onTestFinished(() => f.close());
  await f.init();
  return f;
}

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the promise to reject');
}

/** The error a function throws (fails the test if it does not). */
export function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the call to throw');
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
