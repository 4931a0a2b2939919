import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cache } from '@snoopy/cache';
import { ack, Registry } from '@snoopy/core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { changes, install, type Change } from '../src/index.js';
import { freshTables, nothingWithin, take, testPool, until, url } from './helpers.js';

async function insert(pool: import('pg').Pool, table: string, from: number, to: number): Promise<void> {
  await pool.query(`INSERT INTO ${table} (id, item) SELECT g, 'item ' || g FROM generate_series($1::int, $2::int) g`, [from, to]);
}

describe.skipIf(!url)('changes(): commit order, resume, NOTIFY, retention', () => {
  it('a transaction that took an earlier sequence and commits late holds back later changes; then both, in order, none skipped', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await using source = changes(pool, { schema, pollMs: 50 });
    const it = source[Symbol.asyncIterator]();
    await insert(pool, orders, 1, 1);
    expect((await take(it, 1))[0]!.key).toBe('1');

    const tx1 = await pool.connect();
    onTestFinished(() => tx1.release());
    await tx1.query('BEGIN');
    await tx1.query(`INSERT INTO ${orders} (id, item) VALUES (2, 'late')`);
    await insert(pool, orders, 3, 3); // transaction 2 commits first
    const { rows } = await pool.query(`SELECT key FROM ${schema}.changes ORDER BY seq`);
    expect(rows.map((r) => r.key)).toEqual(['1', '3']); // 2 is not even visible yet
    const { late } = await nothingWithin(it, 500);
    await tx1.query('COMMIT');
    const second = await late;
    const [third] = await take(it, 1);
    expect([(second.value as Change).key, third!.key]).toEqual(['2', '3']);
    await it.return!();
  });

  it('a transaction that got its id first but writes after a later one commits: both emitted, none skipped', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await using source = changes(pool, { schema, pollMs: 50 });
    const it = source[Symbol.asyncIterator]();

    const early = await pool.connect();
    onTestFinished(() => early.release());
    await early.query('BEGIN');
    await early.query('SELECT pg_current_xact_id()'); // takes its transaction id now
    await insert(pool, orders, 10, 10); // a later transaction takes a sequence and commits
    await early.query(`INSERT INTO ${orders} (id, item) VALUES (11, 'higher seq, lower txid')`);
    const { late } = await nothingWithin(it, 500);
    await early.query('COMMIT');
    const first = (await late).value as Change;
    const [second] = await take(it, 1);
    expect([first.key, second!.key].sort()).toEqual(['10', '11']);
    expect(BigInt(first.txid)).toBeLessThan(BigInt(second!.txid));
    await nothingWithin(it, 300);
    await it.return!();
  });

  it('resumes after the contiguous prefix of acknowledged changes (table checkpoint): stop after 5, the next is the 6th', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await insert(pool, orders, 1, 8);

    const first = changes(pool, { schema, pollMs: 50, name: 'billing' });
    const got = await take(first[Symbol.asyncIterator](), 5);
    for (const c of got) first[ack](c);
    await first.close();
    await first.close(); // idempotent

    const second = changes(pool, { schema, pollMs: 50, name: 'billing' });
    onTestFinished(() => second.close());
    const it = second[Symbol.asyncIterator]();
    const next = await take(it, 3);
    expect(next.map((c) => c.key)).toEqual(['6', '7', '8']);
    // Acknowledge 6 and 8 but not 7: the checkpoint stays at 6, a restart sees 7 again.
    second[ack](next[0]!);
    second[ack](next[2]!);
    await second.close();
    const third = changes(pool, { schema, pollMs: 50, name: 'billing' });
    onTestFinished(() => third.close());
    expect((await take(third[Symbol.asyncIterator](), 2)).map((c) => c.key)).toEqual(['7', '8']);

    // Another name has its own position.
    const other = changes(pool, { schema, pollMs: 50, name: 'audit' });
    onTestFinished(() => other.close());
    expect((await take(other[Symbol.asyncIterator](), 1))[0]!.key).toBe('1');
  });

  it('a new iteration resumes after the acknowledged changes, not after what was read ahead', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await insert(pool, orders, 1, 10);
    await using source = changes(pool, { schema, pollMs: 50, batch: 2, checkpoint: false });
    const first = source[Symbol.asyncIterator]();
    for (const c of await take(first, 3)) source[ack](c); // batches of 2: 4 (and more) read ahead
    await first.return!();
    const again = source[Symbol.asyncIterator]();
    expect((await take(again, 7)).map((c) => c.key)).toEqual(['4', '5', '6', '7', '8', '9', '10']);
    await again.return!();
  });

  it('its signal ends the iteration while it waits; an aborted signal ends it at once', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await insert(pool, orders, 1, 1);
    const stop = new AbortController();
    await using source = changes(pool, { schema, pollMs: 600_000, signal: stop.signal });
    const keys: (string | null)[] = [];
    for await (const change of source) {
      keys.push(change.key);
      setTimeout(() => stop.abort(), 50);
    }
    expect(keys).toEqual(['1']);
    await using late = changes(pool, { schema, signal: stop.signal });
    expect(await late[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
  });

  it('keeps the checkpoint in a @snoopy/cache Cache when given one', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await insert(pool, orders, 1, 7);
    const dir = mkdtempSync(join(tmpdir(), 'pg-checkpoint-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const cache = await Cache.open<string>(join(dir, 'db'));
    onTestFinished(() => cache.close());

    const first = changes(pool, { schema, pollMs: 50, checkpoint: cache, name: 'c1' });
    for (const c of await take(first[Symbol.asyncIterator](), 5)) first[ack](c);
    await first.close();
    expect(cache.get('c1')).toMatch(/^\d+\/\d+$/);
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${schema}.checkpoints`)).rows[0].n).toBe(0);

    const second = changes(pool, { schema, pollMs: 50, checkpoint: cache, name: 'c1' });
    onTestFinished(() => second.close());
    expect((await take(second[Symbol.asyncIterator](), 1))[0]!.key).toBe('6');
  });

  it('from: "now" skips what was recorded before; from: an id starts after it', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await insert(pool, orders, 1, 3);
    const now = changes(pool, { schema, pollMs: 50, from: 'now', checkpoint: false });
    onTestFinished(() => now.close());
    const it = now[Symbol.asyncIterator]();
    await nothingWithin(it, 300).then(async ({ late }) => {
      await insert(pool, orders, 4, 4);
      expect(((await late).value as Change).key).toBe('4');
    });
    const all = changes(pool, { schema, pollMs: 50, from: 'start', checkpoint: false });
    onTestFinished(() => all.close());
    const [one] = await take(all[Symbol.asyncIterator](), 1);
    const after = changes(pool, { schema, pollMs: 50, from: one!.id, checkpoint: false });
    onTestFinished(() => after.close());
    expect((await take(after[Symbol.asyncIterator](), 3)).map((c) => c.key)).toEqual(['2', '3', '4']);
  });

  it('a NOTIFY wakes the poll up: a change arrives long before the next poll would run', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await using source = changes(pool, { schema, pollMs: 600_000 });
    const it = source[Symbol.asyncIterator]();
    const next = it.next();
    await until('the LISTEN connection', () => source.stats().listens === 1);
    await insert(pool, orders, 1, 1);
    const got = await Promise.race([next, new Promise<'none'>((r) => setTimeout(() => r('none'), 30_000).unref())]);
    expect(got).not.toBe('none');
    expect(source.stats().notifications).toBeGreaterThanOrEqual(1);
    await it.return!();
  });

  it('a change held back by an older open transaction is picked up soon after it ends, not after pollMs', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await using source = changes(pool, { schema, pollMs: 600_000 });
    const it = source[Symbol.asyncIterator]();
    const pending = it.next();
    await until('the LISTEN connection', () => source.stats().listens === 1);
    const blocker = await pool.connect();
    onTestFinished(() => blocker.release());
    await blocker.query('BEGIN');
    await blocker.query('SELECT pg_current_xact_id()'); // an unrelated transaction, older than the insert
    await insert(pool, orders, 1, 1); // its NOTIFY wakes the source, which finds the change held back
    const held = await Promise.race([pending, new Promise<'held'>((r) => setTimeout(() => r('held'), 300))]);
    expect(held).toBe('held');
    await blocker.query('COMMIT'); // no NOTIFY now: only the short re-poll finds it
    const got = await Promise.race([pending, new Promise<'none'>((r) => setTimeout(() => r('none'), 30_000).unref())]);
    expect(got).not.toBe('none');
    expect(((got as IteratorResult<Change>).value as Change).key).toBe('1');
    await it.return!();
  });

  it('a lost NOTIFY (the listener connection killed) loses nothing, and the listener comes back', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await using source = changes(pool, { schema, pollMs: 200 });
    const it = source[Symbol.asyncIterator]();
    const pending = it.next();
    await until('the LISTEN connection', () => source.stats().listens === 1);
    const { rows } = await pool.query(`SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${schema}_changes"`]);
    expect(rows).toEqual([{ killed: true }]);
    await until('the listener to notice', () => source.stats().listenerErrors === 1);
    await insert(pool, orders, 1, 3);
    const first = (await pending).value as Change;
    const rest = await take(it, 2);
    expect([first.key, ...rest.map((c) => c.key)]).toEqual(['1', '2', '3']);
    const waiting = it.next(); // nothing new: the source waits, and listens again first
    await until('the listener to come back', () => source.stats().listens === 2);
    await insert(pool, orders, 4, 4);
    expect(((await waiting).value as Change).key).toBe('4');
    await it.return!();
  });

  it('the retention sweep deletes processed changes older than retainMs, never past any checkpoint', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await insert(pool, orders, 1, 1);
    await insert(pool, orders, 2, 2);
    await insert(pool, orders, 3, 3);
    await using source = changes(pool, { schema, pollMs: 50, retainMs: 1, sweepMs: 600_000, name: 'a' });
    const it = source[Symbol.asyncIterator]();
    const [c1, c2] = await take(it, 2);
    source[ack](c1!);
    source[ack](c2!);
    await source.commit();
    // Another consumer is only past the first change.
    const [txid, seq] = c1!.id.split('/');
    await pool.query(`INSERT INTO ${schema}.checkpoints (name, txid, seq) VALUES ('b', $1::xid8, $2::bigint)`, [txid, seq]);
    await pool.query('SELECT pg_sleep(0.01)');
    expect(await source.sweep()).toBe(1);
    await pool.query(`DELETE FROM ${schema}.checkpoints WHERE name = 'b'`);
    expect(await source.sweep()).toBe(1);
    expect((await pool.query(`SELECT key FROM ${schema}.changes`)).rows).toEqual([{ key: '3' }]);
    expect(source.stats().swept).toBe(2);
    await it.return!();
  });

  it('the periodic sweep runs by itself', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await insert(pool, orders, 1, 4);
    await using source = changes(pool, { schema, pollMs: 50, retainMs: 1, sweepMs: 100, checkpointMs: 50 });
    const it = source[Symbol.asyncIterator]();
    for (const c of await take(it, 4)) source[ack](c);
    await until('the sweep to empty the change table', async () => (await pool.query(`SELECT count(*)::int AS n FROM ${schema}.changes`)).rows[0].n === 0);
    await it.return!();
  });

  it('in a stream, the checkpoint covers what the handler and sink finished; use after close fails', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await insert(pool, orders, 1, 20);
    const registry = new Registry();
    const source = changes(pool, { schema, pollMs: 50, checkpointMs: 50 });
    const seen: string[] = [];
    const stop = new AbortController();
    registry.snap(source, {
      sink: [
        async (key: string) => {
          seen.push(key);
          if (seen.length === 20) stop.abort();
        },
      ],
    })((change: Change) => change.key!);
    await registry.stream({ signal: stop.signal, handleSignals: false, progress: false });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
    const { rows } = await pool.query(`SELECT txid::text || '/' || seq::text AS id FROM ${schema}.checkpoints WHERE name = 'default'`);
    const last = (await pool.query(`SELECT txid::text || '/' || seq::text AS id FROM ${schema}.changes WHERE key = '20'`)).rows[0].id;
    expect(rows).toEqual([{ id: last }]);
    await source.close();
    await expect(source.commit()).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
    expect(() => source[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
  });

  it('an early break ends the iteration: the checkpoint is written and the LISTEN connection released', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await insert(pool, orders, 1, 2);
    const source = changes(pool, { schema, pollMs: 50 });
    onTestFinished(() => source.close());
    let n = 0;
    for await (const change of source) {
      source[ack](change);
      if (++n === 2) {
        // The source now waits with a LISTEN connection until the third arrives.
        setTimeout(() => void until('the LISTEN connection', () => source.stats().listens === 1).then(() => insert(pool, orders, 3, 3)), 10);
      }
      if (n === 3) break;
    }
    expect(source.stats().listens).toBe(1);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.checkpoints`);
    expect(rows[0].n).toBe(1);
    await until('UNLISTEN', async () => (await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1`, [`LISTEN "${schema}_changes"`])).rows[0].n === 0);
  });
});
