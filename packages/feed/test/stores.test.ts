// One behaviour, three stores: this suite runs against LevelDB, a real Redis and a real PostgreSQL.
import { describe, expect, it } from 'vitest';
import { Registry, deliver, type Completion } from '@snoopy/core';
import { feed } from '../src/index.js';
import { collect, manualClock, openFeed, rejection, storeKinds, thrown } from './helpers.js';

interface Ev {
  name?: string;
  kind?: string;
  user?: number | string | (number | string)[];
  repo?: string;
  n?: number;
}

for (const kind of storeKinds) {
  describe.skipIf(!kind.available)(`feed on ${kind.name}`, () => {
    const open = (options: Partial<Parameters<typeof openFeed<Ev>>[1]> = {}, storeOptions?: Record<string, unknown>) =>
      openFeed<Ev>(kind, { keys: ['user', 'kind', 'repo'], ...options }, storeOptions);

    it('answers the AwesomeStream cases', async () => {
      const clock = manualClock();
      const f = await open({ clock: clock.now });
      const A = { name: 'A', kind: 'play', user: 1 };
      const B = { name: 'B', kind: 'play', user: 2 };
      const C = { name: 'C', kind: 'score', user: 1 };
      for (const e of [A, B, C]) {
        await f.insert(e);
        clock.advance(1);
      }
      expect(await f.items()).toEqual([C, B, A]);
      expect(await f.items({ kind: 'play' })).toEqual([B, A]);
      expect(await f.items({ kind: 'play', user: 1 })).toEqual([A]);
      expect(await f.items({ user: [1, 2] }, { start: 1, end: 3 })).toEqual([B, A]);
      expect(await f.count()).toBe(3);
      expect(await f.count({ kind: 'play' })).toBe(2);
      expect(await f.count({ user: [1, 2] })).toBe(3);
    });

    it('returns exactly end - start items when that many match', async () => {
      const f = await open();
      for (let i = 0; i < 30; i++) await f.insert({ n: i, kind: i % 2 ? 'odd' : 'even', user: i % 3 }, { at: 1000 + i });
      for (const [start, end] of [[0, 1], [0, 20], [5, 10], [14, 15], [10, 30], [29, 30]] as const) {
        const page = await f.items({}, { start, end });
        expect(page.map((e) => e.n)).toEqual(Array.from({ length: end - start }, (_, i) => 29 - start - i));
      }
      expect(await f.items({}, { start: 25, end: 40 })).toHaveLength(5);
      expect(await f.items({}, { start: 3, end: 3 })).toEqual([]);
      expect((await f.items({ kind: 'odd' }, { start: 2, end: 6 })).map((e) => e.n)).toEqual([25, 23, 21, 19]);
      expect((await f.items({ user: [0, 2] }, { end: 5 })).map((e) => e.n)).toEqual([29, 27, 26, 24, 23]);
    });

    it('does not let values of one key collide with combinations of several', async () => {
      const f = await open({ keys: ['kind', 'user'] });
      const joined = { name: 'joined', kind: 'user-friend-291' };
      const pair = { name: 'pair', kind: 'friend', user: 291 };
      const dashed = { name: 'dashed', kind: 'friend-291' };
      await f.insert(joined, { at: 1 });
      await f.insert(pair, { at: 2 });
      await f.insert(dashed, { at: 3 });
      expect(await f.items({ kind: 'friend', user: 291 })).toEqual([pair]);
      expect(await f.items({ kind: 'user-friend-291' })).toEqual([joined]);
      expect(await f.items({ kind: 'friend-291' })).toEqual([dashed]);
      expect(await f.items({ kind: 'friend' })).toEqual([pair]);
      expect(await f.items({ user: 291 })).toEqual([pair]);
    });

    it('orders ties on `at` by insertion, newest first', async () => {
      const f = await open();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await f.insert({ n: i, kind: 'tie' }, { at: 5000 }));
      // A burst that goes out as one batch keeps its order too.
      ids.push(...(await Promise.all([5, 6, 7].map((n) => f.insert({ n, kind: 'tie' }, { at: 5000 })))));
      expect((await f.items({ kind: 'tie' })).map((e) => e.n)).toEqual([7, 6, 5, 4, 3, 2, 1, 0]);
      expect(new Set(ids).size).toBe(8);
      const entries = await collect(f.scan({ kind: 'tie' }));
      expect(entries.map((e) => e.id)).toEqual([...ids].reverse());
    });

    it('puts a backdated insert in its place', async () => {
      const f = await open();
      await f.insert({ name: 'old' }, { at: 1000 });
      await f.insert({ name: 'new' }, { at: 3000 });
      await f.insert({ name: 'backdated' }, { at: 2000 });
      await f.insert({ name: 'oldest' }, { at: new Date(500) });
      expect((await f.items()).map((e) => e.name)).toEqual(['new', 'backdated', 'old', 'oldest']);
      expect((await f.items({}, { start: 1, end: 2 })).map((e) => e.name)).toEqual(['backdated']);
    });

    it('indexes list values per element and normalises 291 and "291"', async () => {
      const f = await open();
      await f.insert({ name: 'both', user: [1, '2'], kind: 'x' }, { at: 1 });
      await f.insert({ name: 'str', user: '291', kind: 'x' }, { at: 2 });
      await f.insert({ name: 'none', user: [], kind: 'x' }, { at: 3 });
      expect((await f.items({ user: 2 })).map((e) => e.name)).toEqual(['both']);
      expect((await f.items({ user: '1', kind: 'x' })).map((e) => e.name)).toEqual(['both']);
      expect((await f.items({ user: 291 })).map((e) => e.name)).toEqual(['str']);
      // An event under two ORed values comes once.
      expect((await f.items({ user: [1, 2, 291] })).map((e) => e.name)).toEqual(['str', 'both']);
      expect(await f.count({ user: [1, 2] })).toBe(1);
      expect(await f.items({ user: [] })).toEqual([]);
      expect(await f.count({ user: [] })).toBe(0);
      expect(await f.items({ user: undefined, kind: 'x' })).toHaveLength(3);
    });

    it('indexes only own fields, so keys may be named like Object.prototype members', async () => {
      const f = await openFeed<Record<string, unknown>>(kind, { keys: ['constructor', 'toString'] });
      await f.insert({ n: 1 }, { at: 1 });
      await f.insert({ n: 2, constructor: 'x' }, { at: 2 });
      expect((await f.items({ constructor: 'x' })).map((e) => e.n)).toEqual([2]);
      expect((await f.items()).map((e) => e.n)).toEqual([2, 1]);
      expect(await f.count({ toString: 'y' })).toBe(0);
    });

    it('refuses a filter on a key that is not indexed, and too wide an OR', async () => {
      const f = await open({ maxFanOut: 4 });
      await f.insert({ name: 'a', user: 1 });
      const notIndexed = await rejection(f.items({ name: 'a' } as never));
      expect(notIndexed.code).toBe('SNOOPY_FEED_FILTER');
      expect(notIndexed.message).toContain('`name`');
      expect((await rejection(f.count({ user: [1, null] } as never))).code).toBe('SNOOPY_FEED_FILTER');
      const wide = await rejection(f.items({ user: [1, 2, 3], kind: ['a', 'b'] }));
      expect(wide.code).toBe('SNOOPY_FEED_FANOUT');
      expect(thrown(() => f.scan({ user: [1, 2, 3, 4, 5] })).code).toBe('SNOOPY_FEED_FANOUT');
      expect((await rejection(f.insert({ user: [1, 2, 3], kind: 'k' }))).code).toBe('SNOOPY_FEED_FANOUT');
      expect((await rejection(f.insert({ user: { id: 1 } } as never))).code).toBe('SNOOPY_FEED_EVENT');
      expect((await rejection(f.insert('nope' as never))).code).toBe('SNOOPY_FEED_EVENT');
      expect((await rejection(f.insert({ user: 1 }, { at: -1 }))).code).toBe('SNOOPY_FEED_EVENT');
      expect((await rejection(f.insert({ user: 1 }, { at: 1.5 }))).code).toBe('SNOOPY_FEED_EVENT');
      expect((await rejection(f.items({}, { start: 5, end: 2 }))).code).toBe('SNOOPY_OPTIONS_INVALID');
      expect((await rejection(f.items({}, { end: 10_001 }))).code).toBe('SNOOPY_OPTIONS_INVALID');
    });

    it('scans with a cursor, page by page, and as a snap source', async () => {
      const f = await open();
      for (let i = 0; i < 45; i++) await f.insert({ n: i, kind: i % 3 === 0 ? 'three' : 'other' }, { at: 100 + Math.floor(i / 2) });
      const all = await collect(f.scan({}, { pageSize: 7 }));
      expect(all.map((e) => e.event.n)).toEqual(Array.from({ length: 45 }, (_, i) => 44 - i));
      const first = await collect(f.scan({ kind: ['three', 'other'] }, { limit: 10, pageSize: 4 }));
      const rest = await collect(f.scan({ kind: ['three', 'other'] }, { before: first[first.length - 1]!, pageSize: 6 }));
      expect([...first, ...rest].map((e) => e.event.n)).toEqual(all.map((e) => e.event.n));
      const threes = await collect(f.scan({ kind: 'three' }, { pageSize: 2 }));
      expect(threes.map((e) => e.event.n)).toEqual([42, 39, 36, 33, 30, 27, 24, 21, 18, 15, 12, 9, 6, 3, 0]);

      const seen: number[] = [];
      const registry = new Registry();
      registry.snap(f.scan({ kind: 'three' }, { limit: 4 }))((entry: { event: Ev }) => {
        seen.push(entry.event.n!);
      });
      await registry.stream({ handleSignals: false, progress: false, dispose: false });
      expect(seen).toEqual([42, 39, 36, 33]);
    });

    it('stops a scan on break and on abort', async () => {
      const f = await open();
      for (let i = 0; i < 10; i++) await f.insert({ n: i }, { at: i });
      const it1 = f.scan({}, { pageSize: 2 });
      for await (const entry of it1) if (entry.event.n === 8) break;
      expect(await it1.next()).toEqual({ done: true, value: undefined });
      const controller = new AbortController();
      const got: number[] = [];
      const error = await rejection(
        (async () => {
          for await (const entry of f.scan({}, { pageSize: 2, signal: controller.signal })) {
            got.push(entry.event.n!);
            if (got.length === 3) controller.abort();
          }
        })(),
      );
      expect(error.code).toBe('SNOOPY_ABORTED');
      expect(got).toEqual([9, 8, 7]);
    });

    it('is a deferred sink: a message is acknowledged once its event is stored', async () => {
      const f = await open({ at: (e) => e.n });
      const registry = new Registry();
      registry.snap([1, 2, 3, 4, 5], { sink: [f] })((n: number): Ev => ({ n, kind: n % 2 ? 'odd' : 'even' }));
      await registry.stream({ handleSignals: false, progress: false, dispose: false });
      expect((await f.items()).map((e) => e.n)).toEqual([5, 4, 3, 2, 1]);
      expect((await f.items({ kind: 'odd' })).map((e) => e.n)).toEqual([5, 3, 1]);

      // By hand: done() only after the write, fail() for an event that cannot be stored.
      const calls: string[] = [];
      const completion = (name: string): Completion => ({ done: () => calls.push(`${name} done`), fail: (e) => calls.push(`${name} ${(e as { code: string }).code}`) });
      f[deliver]({ n: 6 }, completion('six'));
      expect(calls).toEqual([]);
      expect(() => f[deliver]({ user: { x: 1 } } as never, completion('bad'))).toThrow(expect.objectContaining({ code: 'SNOOPY_FEED_EVENT' }));
      await f.flush();
      expect(calls).toEqual(['six done']);
      expect(f.stats()).toMatchObject({ inserted: 6, pending: 0, failures: 0 });
    });

    it('sweeps by age and by count', async () => {
      const clock = manualClock(1_000_000);
      const f = await open({ clock: clock.now, maxAgeMs: 1000, maxItems: 5, sweepInterval: 0 });
      for (let i = 0; i < 8; i++) await f.insert({ n: i, user: i % 2, kind: 'k' }, { at: 999_000 + i * 100 });
      expect(await f.count()).toBe(8);
      // Nothing is older than 1 s yet (oldest at 999 000, now 1 000 000): the count limit removes 3.
      expect(await f.sweep()).toBe(3);
      expect((await f.items()).map((e) => e.n)).toEqual([7, 6, 5, 4, 3]);
      expect(await f.count({ user: 1 })).toBe(3);
      expect(await f.count({ kind: 'k', user: 0 })).toBe(2);
      clock.advance(450); // now 1 000 450: at < 999 450 is too old (n 3 and 4 at 999 300, 999 400)
      expect(await f.sweep()).toBe(2);
      expect((await f.items({ kind: 'k' })).map((e) => e.n)).toEqual([7, 6, 5]);
      expect(await f.count({ user: [0, 1] })).toBe(3);
      expect(await f.sweep()).toBe(0);
    });

    it('sweeps by itself every sweepInterval', async () => {
      const f = await open({ maxItems: 2, sweepInterval: 20 });
      for (let i = 0; i < 6; i++) await f.insert({ n: i }, { at: i + 1 });
      const deadline = Date.now() + 30_000;
      while ((await f.count()) > 2) {
        if (Date.now() > deadline) throw new Error(`the periodic sweep did not run: ${await f.count()} events left`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // A sweep may still be finishing its bookkeeping: this call joins it (or removes nothing).
      await f.sweep();
      expect((await f.items()).map((e) => e.n)).toEqual([5, 4]);
      expect(f.stats().swept).toBe(4);
    });

    it('closes once, writes what is queued, and refuses use after close', async () => {
      const f = await open();
      const pending = f.insert({ n: 1 });
      const [a, b] = [f.close(), f.close()];
      expect(a).toBe(b);
      await a;
      expect(await pending).toMatch(/^\d+$/);
      expect((await rejection(f.items())).code).toBe('SNOOPY_CLOSED');
      expect((await rejection(f.insert({ n: 2 }))).code).toBe('SNOOPY_CLOSED');
      expect((await rejection(f.sweep())).code).toBe('SNOOPY_CLOSED');
      expect(() => f[deliver]({ n: 3 }, { done() {}, fail() {} })).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
      await f[Symbol.asyncDispose]();
    });

    it('keeps events across feeds on the same store data', async () => {
      const store = await kind.create();
      const first = feed<Ev>({ keys: ['user'], store });
      await first.insert({ n: 1, user: 7 }, { at: 10 });
      await first.close();
      // A second feed over the same data (same store object: same directory/prefix/schema) goes on numbering.
      const second = feed<Ev>({ keys: ['user'], store });
      const id = await second.insert({ n: 2, user: 7 }, { at: 10 });
      expect((await second.items({ user: 7 })).map((e) => e.n)).toEqual([2, 1]);
      expect(Number(id)).toBeGreaterThan(1);
      await second.close();
    });
  });
}
