// A stream pipeline fills a feed as a sink and reads it as a source (core + cache + feed), on the
// embedded LevelDB store: a source's message is acknowledged only after its event is stored, and a
// failed write acknowledges nothing. (The same sink runs on Redis and PostgreSQL in
// packages/feed/test/stores.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Registry, ack } from '@snoopy/core';
import { Cache } from '@snoopy/cache';
import { feed, levelStore, type FeedStore, type NewRecord } from '@snoopy/feed';

process.env.SNOOPY_LOG_LEVEL ??= 'silent';

interface Play {
  n: number;
  user: number;
  kind: string;
}

async function levelFeedStore(): Promise<FeedStore> {
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-feed-pipeline-'));
  const cache = await Cache.open(join(dir, 'db'), { sweepInterval: 0 });
  onTestFinished(async () => {
    await cache.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return levelStore(cache);
}

/**
 * The real store, with a log of when each batch was stored. For the failure case, writes of
 * events with `n` in `failing` reject (a store outage we cannot cause on demand mid-stream).
 */
function logged(store: FeedStore, log: string[], failing: ReadonlySet<number> = new Set()): FeedStore {
  return Object.assign(Object.create(store) as FeedStore, {
    name: store.name,
    init: () => store.init(),
    page: store.page.bind(store),
    load: store.load.bind(store),
    count: store.count.bind(store),
    nth: store.nth.bind(store),
    removeOlder: store.removeOlder.bind(store),
    close: () => store.close(),
    async append(records: readonly NewRecord[]) {
      if (records.some((r) => failing.has((r.event as Play).n))) throw new Error('store outage');
      const seqs = await store.append(records);
      for (const r of records) log.push(`stored ${(r.event as Play).n}`);
      return seqs;
    },
  });
}

function acknowledgingSource(items: number[], log: string[]): Iterable<number> {
  return {
    *[Symbol.iterator]() {
      yield* items;
    },
    [ack]: (n: number) => void log.push(`ack ${n}`),
  } as Iterable<number>;
}

const makeStore = levelFeedStore;

describe('a feed in a pipeline', () => {
  it('acknowledges each message after its event is stored, and is read back as a snap source', async () => {
    const log: string[] = [];
    const plays = feed<Play>({ keys: ['user', 'kind'], store: logged(await makeStore(), log), at: (p) => 1000 + p.n, batchSize: 7 });
    onTestFinished(() => plays.close());
    const items = Array.from({ length: 50 }, (_, i) => i);
    const registry = new Registry();
    registry.snap(acknowledgingSource(items, log), { sink: [plays] })((n: number): Play => ({ n, user: n % 5, kind: n % 2 ? 'odd' : 'even' }));
    await registry.stream({ handleSignals: false, progress: false, dispose: false });

    for (const n of items) {
      const stored = log.indexOf(`stored ${n}`);
      const acked = log.indexOf(`ack ${n}`);
      expect(stored, `event ${n} stored`).toBeGreaterThanOrEqual(0);
      expect(acked, `message ${n} acknowledged after its event was stored`).toBeGreaterThan(stored);
    }
    expect(await plays.count()).toBe(50);

    // Read back: a snap over scan() copies user 3's plays into a cache, newest first.
    const seen: number[] = [];
    const reader = new Registry();
    reader.snap(plays.scan({ user: 3 }, { pageSize: 4 }))((entry: { event: Play }) => {
      seen.push(entry.event.n);
    });
    await reader.stream({ handleSignals: false, progress: false, dispose: false });
    expect(seen).toEqual([48, 43, 38, 33, 28, 23, 18, 13, 8, 3]);
  });

  it('acknowledges nothing whose write failed', async () => {
    const log: string[] = [];
    const plays = feed<Play>({ keys: ['user'], store: logged(await makeStore(), log, new Set([3])), batchSize: 1 });
    onTestFinished(() => plays.close());
    const registry = new Registry();
    registry.snap(acknowledgingSource([1, 2, 3, 4], log), { sink: [plays] })((n: number): Play => ({ n, user: n, kind: 'k' }));
    const error = await registry.stream({ handleSignals: false, progress: false, dispose: false }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; cause?: { code?: string } },
    );
    expect(error?.code).toBe('SNOOPY_SNAP_SINK');
    expect(error?.cause?.code).toBe('SNOOPY_FEED_STORE');
    expect(log).not.toContain('stored 3');
    expect(log).not.toContain('ack 3');
    for (const entry of log.filter((l) => l.startsWith('ack '))) {
      const n = entry.slice(4);
      expect(log.indexOf(entry), `message ${n} acknowledged after its event was stored`).toBeGreaterThan(log.indexOf(`stored ${n}`));
      expect(log).toContain(`stored ${n}`);
    }
    expect(await plays.count()).toBe(log.filter((l) => l.startsWith('stored')).length);
  });
});
