import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cache } from '@snoopy/cache';
import { ack } from '@snoopy/core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { pull, type PageFunction } from '../src/index.js';
import { fresh, nothingWithin, take, testPool, url } from './helpers.js';

async function itemsTable(pool: import('pg').Pool): Promise<string> {
  const schema = fresh('pull');
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`CREATE TABLE ${schema}.items (id int PRIMARY KEY, name text NOT NULL)`);
  onTestFinished(() => pool.query(`DROP SCHEMA ${schema} CASCADE`));
  return `${schema}.items`;
}

async function add(pool: import('pg').Pool, table: string, from: number, to: number): Promise<void> {
  await pool.query(`INSERT INTO ${table} SELECT g, 'item ' || g FROM generate_series($1::int, $2::int) g`, [from, to]);
}

const ids = (rows: readonly { id: number }[]): number[] => rows.map((r) => r.id);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.skipIf(!url)('pull() over PostgreSQL', () => {
  it("mode 'all': 11 rows with page size 10 give 11 items; 11 more rows and one tick give exactly those 11", async () => {
    const pool = testPool();
    const table = await itemsTable(pool);
    await add(pool, table, 1, 11);
    await using source = pull<{ id: number; name: string }>({ pool, query: table }, { key: 'id', pageSize: 10, every: 100 });
    const it = source[Symbol.asyncIterator]();
    expect(ids(await take(it, 11))).toEqual(range(1, 11));
    const { late } = await nothingWithin(it, 300);
    await add(pool, table, 12, 22);
    expect(ids([(await late).value as { id: number }, ...(await take(it, 10))])).toEqual(range(12, 22));
    await nothingWithin(it, 300);
    await it.return!();
  });

  it("mode 'newOnly' emits nothing for rows that existed before it started", async () => {
    const pool = testPool();
    const table = await itemsTable(pool);
    await add(pool, table, 1, 5);
    await using source = pull<{ id: number }>({ pool, query: `SELECT id FROM ${table}` }, { key: 'id', mode: 'newOnly', every: 100 });
    const it = source[Symbol.asyncIterator]();
    const { late } = await nothingWithin(it, 400);
    await add(pool, table, 6, 7);
    expect(ids([(await late).value as { id: number }, ...(await take(it, 1))])).toEqual([6, 7]);
    await it.return!();
  });

  it("mode 'backfillOnce' emits every current row and ends; a query with parameters pages by its key", async () => {
    const pool = testPool();
    const table = await itemsTable(pool);
    await add(pool, table, 1, 25);
    const got: number[] = [];
    for await (const row of pull<{ id: number }>({ pool, query: `SELECT id, name FROM ${table} WHERE id % 2 = $1`, params: [1] }, { key: 'id', mode: 'backfillOnce', pageSize: 4 })) {
      got.push(row.id);
    }
    expect(got).toEqual(range(1, 25).filter((i) => i % 2 === 1));
  });

  it('resumes after the acknowledged prefix kept in a Cache', async () => {
    const pool = testPool();
    const table = await itemsTable(pool);
    await add(pool, table, 1, 11);
    const dir = mkdtempSync(join(tmpdir(), 'pull-checkpoint-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const cache = await Cache.open(join(dir, 'db'));
    onTestFinished(() => cache.close());
    const first = pull<{ id: number }>({ pool, query: table }, { key: 'id', pageSize: 4, checkpoint: cache, name: 'items' });
    const got = await take(first[Symbol.asyncIterator](), 7);
    for (const row of got.slice(0, 5)) first[ack](row);
    first[ack](got[6]!); // 7 is done, 6 is not: the checkpoint stays at 5
    await first.close();
    expect(cache.get('items')).toEqual({ at: 5 });
    await using second = pull<{ id: number }>({ pool, query: table }, { key: 'id', pageSize: 4, checkpoint: cache, name: 'items', mode: 'newOnly' });
    expect(ids(await take(second[Symbol.asyncIterator](), 6))).toEqual(range(6, 11));
  });

  it('a failing query rejects with SNOOPY_PG_QUERY and its SQLSTATE', async () => {
    const pool = testPool();
    const source = pull({ pool, query: 'SELECT id FROM no_such_table_here' }, { key: 'id' });
    await expect(source[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'SNOOPY_PG_QUERY', pgCode: '42P01', retriable: false });
    await source.close();
  });
});

describe('pull() over a cursor function (an HTTP API that lists by cursor)', () => {
  async function api(): Promise<{ items: { id: number }[]; fetchPage: PageFunction<{ id: number }, number> }> {
    const items: { id: number }[] = [];
    const server = createServer((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams;
      const after = Number(q.get('after') ?? 0);
      const page = items.filter((i) => i.id > after).slice(0, Number(q.get('limit')));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: page, next: page.at(-1)?.id ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/items`;
    const fetchPage: PageFunction<{ id: number }, number> = async (cursor, { limit, signal }) => {
      const res = await fetch(`${base}?after=${cursor ?? 0}&limit=${limit}`, { signal });
      const body = (await res.json()) as { data: { id: number }[]; next: number | null };
      return { items: body.data, next: body.next };
    };
    return { items, fetchPage };
  }

  it("mode 'all': 11 items with page size 10, then 11 more on the next tick", async () => {
    const { items, fetchPage } = await api();
    for (let i = 1; i <= 11; i++) items.push({ id: i });
    await using source = pull(fetchPage, { pageSize: 10, every: 100 });
    const it = source[Symbol.asyncIterator]();
    expect(ids(await take(it, 11))).toEqual(range(1, 11));
    const { late } = await nothingWithin(it, 300);
    for (let i = 12; i <= 22; i++) items.push({ id: i });
    expect(ids([(await late).value as { id: number }, ...(await take(it, 10))])).toEqual(range(12, 22));
    await it.return!();
  });

  it("mode 'newOnly' walks to the end first and emits only what comes after", async () => {
    const { items, fetchPage } = await api();
    for (let i = 1; i <= 7; i++) items.push({ id: i });
    await using source = pull(fetchPage, { pageSize: 3, every: 100, mode: 'newOnly' });
    const it = source[Symbol.asyncIterator]();
    const { late } = await nothingWithin(it, 300);
    items.push({ id: 8 });
    expect(((await late).value as { id: number }).id).toBe(8);
    await it.return!();
  });

  it('its signal ends the iteration while it waits for new items, and writes the checkpoint', async () => {
    const { items, fetchPage } = await api();
    items.push({ id: 1 }, { id: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'pull-signal-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const cache = await Cache.open(join(dir, 'db'));
    onTestFinished(() => cache.close());
    const stop = new AbortController();
    const source = pull(fetchPage, { every: 600_000, signal: stop.signal, checkpoint: cache });
    const seen: number[] = [];
    for await (const item of source) {
      seen.push(item.id);
      source[ack](item);
      if (seen.length === 2) setTimeout(() => stop.abort(), 50);
    }
    expect(seen).toEqual([1, 2]);
    expect(cache.get('default')).toEqual({ at: 2 });
    const late = pull(fetchPage, { signal: stop.signal });
    expect(await late[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
  });

  it('a page that is not { items, next } fails with SNOOPY_PG_PAGE', async () => {
    const bad = pull(async () => ({ rows: [] }) as never, {});
    await expect(bad[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'SNOOPY_PG_PAGE' });
    const noNext = pull(async () => ({ items: [1, 2] }), { mode: 'backfillOnce' });
    await expect(noNext[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'SNOOPY_PG_PAGE' });
  });

  it('an early break calls return(): the checkpoint is written and the pull is over', async () => {
    const { items, fetchPage } = await api();
    for (let i = 1; i <= 9; i++) items.push({ id: i });
    const dir = mkdtempSync(join(tmpdir(), 'pull-break-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const cache = await Cache.open(join(dir, 'db'));
    onTestFinished(() => cache.close());
    const source = pull(fetchPage, { pageSize: 3, checkpoint: cache });
    for await (const item of source) {
      source[ack](item);
      if (item.id === 3) break;
    }
    expect(cache.get('default')).toEqual({ at: 3 });
    expect(() => source[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
    await source.close();
    expect(() => source[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
  });
});
