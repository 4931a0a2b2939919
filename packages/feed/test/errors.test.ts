import { describe, expect, it, onTestFinished } from 'vitest';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Cache } from '@snoopy/cache';
import { SnoopyError, errorCodes } from '@snoopy/core';
import {
  FeedEventError,
  FeedFanOutError,
  FeedFilterError,
  FeedRpcError,
  FeedStoreError,
  feed,
  levelStore,
  postgresStore,
  redisStore,
} from '../src/index.js';
import { postgresUrl, redisUrl } from '../../../test/setup/services-helpers.js';
import { level, randomName, rejection, tempDir, thrown } from './helpers.js';

describe('feed errors', () => {
  it('has one class per SNOOPY_FEED_* code of the table, each a SnoopyError', () => {
    const instances = [
      new FeedEventError('x'),
      new FeedFilterError('k', 'x'),
      new FeedFanOutError('query', 300, 256),
      new FeedStoreError('level', 'write'),
      new FeedRpcError('x'),
    ];
    const codes = instances.map((e) => e.code).sort();
    expect(codes).toEqual(Object.keys(errorCodes).filter((c) => c.startsWith('SNOOPY_FEED_')).sort());
    for (const e of instances) {
      expect(e).toBeInstanceOf(SnoopyError);
      expect(e.retriable).toBe(e.code === 'SNOOPY_FEED_STORE' || e.code === 'SNOOPY_FEED_RPC');
    }
  });

  it('fails a write on a closed LevelDB cache with SNOOPY_FEED_STORE', async () => {
    const cache = await Cache.open(join(tempDir(), 'db'), { sweepInterval: 0 });
    const f = feed({ keys: ['user'], store: levelStore(cache) });
    onTestFinished(() => f.close());
    await f.insert({ user: 1 });
    await cache.close();
    const error = await rejection(f.insert({ user: 2 }));
    expect(error).toBeInstanceOf(FeedStoreError);
    expect(error).toMatchObject({ code: 'SNOOPY_FEED_STORE', retriable: true });
    expect((error.cause as { code?: string }).code).toBe('SNOOPY_CLOSED');
  });

  it.skipIf(!redisUrl())('fails on a disconnected Redis with SNOOPY_FEED_STORE', async () => {
    const client = new Redis(redisUrl()!, { maxRetriesPerRequest: 0 });
    const f = feed({ keys: ['user'], store: redisStore(client, { prefix: randomName('feed') }) });
    onTestFinished(() => f.close());
    await f.insert({ user: 1 });
    client.disconnect();
    const error = await rejection(f.items({ user: 1 }));
    expect(error).toMatchObject({ code: 'SNOOPY_FEED_STORE', retriable: true });
    expect((await rejection(f.insert({ user: 1 }))).code).toBe('SNOOPY_FEED_STORE');
  });

  it.skipIf(!postgresUrl())('fails on an ended pool with SNOOPY_FEED_STORE', async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl()!, max: 1 });
    const schema = randomName('feed');
    const f = feed({ keys: ['user'], store: postgresStore(pool, { schema }) });
    onTestFinished(() => f.close());
    await f.insert({ user: 1 });
    await pool.query(`drop schema "${schema}" cascade`);
    await pool.end();
    expect(await rejection(f.count({ user: 1 }))).toMatchObject({ code: 'SNOOPY_FEED_STORE', retriable: true });
  });
});

describe('feed options', () => {
  it('refuses bad options at construction, quoting what it got', async () => {
    const store = await level.create();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ store }, /Expected `keys` to be a non-empty array/],
      [{ keys: [], store }, /Expected `keys`/],
      [{ keys: ['a', 'a'], store }, /distinct/],
      [{ keys: ['a', ''], store }, /non-empty strings/],
      [{ keys: ['a'] }, /Expected `store` to be a feed store/],
      [{ keys: ['a'], store: {} }, /Expected `store`/],
      [{ keys: ['a'], store, maxFanout: 3 }, /Unknown feed option `maxFanout`/],
      [{ keys: ['a'], store, maxFanOut: 0 }, /Expected `maxFanOut` to be an integer >= 1, got `0` \(number\)/],
      [{ keys: ['a'], store, maxAgeMs: 0 }, /`maxAgeMs`/],
      [{ keys: ['a'], store, maxItems: 1.5 }, /`maxItems`/],
      [{ keys: ['a'], store, sweepInterval: -1 }, /`sweepInterval`/],
      [{ keys: ['a'], store, batchSize: '10' }, /`batchSize` to be an integer >= 1, got `"10"` \(string\)/],
      [{ keys: ['a'], store, at: 5 }, /Expected `at` to be a function/],
      [{ keys: ['a'], store, clock: 'now' }, /Expected `clock` to be a function/],
    ];
    for (const [options, message] of bad) {
      const error = thrown(() => feed(options as never));
      expect(error.code, JSON.stringify(Object.keys(options))).toBe('SNOOPY_OPTIONS_INVALID');
      expect(error.message).toMatch(message);
    }
    expect(thrown(() => feed(null as never)).code).toBe('SNOOPY_OPTIONS_INVALID');
  });

  it('refuses bad store arguments', () => {
    expect(thrown(() => levelStore({} as never)).message).toMatch(/Expected a Cache/);
    expect(thrown(() => redisStore({} as never)).message).toMatch(/Expected an ioredis client/);
    expect(thrown(() => postgresStore(null as never)).message).toMatch(/Expected a pg Pool/);
    const fakeRedis = { evalsha() {}, zrevrangebylex() {} } as never;
    expect(thrown(() => redisStore(fakeRedis, { prefix: 'a b' })).message).toMatch(/`prefix`/);
    expect(thrown(() => redisStore(fakeRedis, { maxPerIndex: 0 })).message).toMatch(/`maxPerIndex`/);
    expect(thrown(() => redisStore(fakeRedis, { cap: 1 } as never)).message).toMatch(/Unknown redisStore option `cap`/);
    const fakePool = { query() {} } as never;
    expect(thrown(() => postgresStore(fakePool, { schema: 'x"; drop table y; --' })).message).toMatch(/`schema` to be an SQL identifier/);
    expect(thrown(() => postgresStore(fakePool, { table: '' })).code).toBe('SNOOPY_OPTIONS_INVALID');
  });

  it('refuses bad call options', async () => {
    const store = await level.create();
    const f = feed({ keys: ['a'], store });
    onTestFinished(() => f.close());
    expect((await rejection(f.items({}, { end: -1 }))).code).toBe('SNOOPY_OPTIONS_INVALID');
    expect((await rejection(f.items({}, 3 as never))).code).toBe('SNOOPY_OPTIONS_INVALID');
    expect(thrown(() => f.scan({}, { before: { at: 1 } as never })).message).toMatch(/`before`/);
    expect(thrown(() => f.scan({}, { pageSize: 0 })).message).toMatch(/`pageSize`/);
    expect((await rejection(f.count({}, { signal: 'x' as never }))).code).toBe('SNOOPY_OPTIONS_INVALID');
    expect((await rejection(f.items('a' as never))).code).toBe('SNOOPY_FEED_FILTER');
    const controller = new AbortController();
    controller.abort();
    expect((await rejection(f.insert({ a: 1 }, { signal: controller.signal }))).code).toBe('SNOOPY_ABORTED');
    expect((await rejection(f.flush({ signal: controller.signal }))).code).toBe('SNOOPY_ABORTED');
    expect((await rejection(f.sweep({ signal: controller.signal }))).code).toBe('SNOOPY_ABORTED');
    expect((await rejection(f.items({}, { signal: controller.signal }))).code).toBe('SNOOPY_ABORTED');
  });
});
