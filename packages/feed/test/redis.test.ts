// Redis-only behaviour: the per-index cap.
import { describe, expect, it } from 'vitest';
import { openFeed, redis } from './helpers.js';

describe.skipIf(!redis.available)('redisStore', () => {
  it('caps every index at maxPerIndex, deleting events that leave the all-events index', async () => {
    const f = await openFeed<{ n: number; user: number }>(redis, { keys: ['user'] }, { maxPerIndex: 3 });
    for (let i = 0; i < 10; i++) await f.insert({ n: i, user: i % 2 }, { at: 100 + i });
    expect((await f.items()).map((e) => e.n)).toEqual([9, 8, 7]);
    // 4, 5 and 6 left the all-events index, so they are gone from their other indexes too.
    expect((await f.items({ user: 0 })).map((e) => e.n)).toEqual([8]);
    expect((await f.items({ user: 1 })).map((e) => e.n)).toEqual([9, 7]);
    expect(await f.count()).toBe(3);
    expect(await f.count({ user: 1 })).toBe(2);
    // A burst in one script keeps the cap too.
    await Promise.all([10, 11, 12, 13].map((n) => f.insert({ n, user: 1 }, { at: 100 + n })));
    expect((await f.items()).map((e) => e.n)).toEqual([13, 12, 11]);
    expect((await f.items({ user: 1 })).map((e) => e.n)).toEqual([13, 12, 11]);
    expect((await f.items({ user: 0 })).map((e) => e.n)).toEqual([]);
  });
});
