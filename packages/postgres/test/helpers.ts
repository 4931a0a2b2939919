import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onTestFinished } from 'vitest';
import { postgresUrl } from '../../../test/setup/services-helpers.js';

export const url = postgresUrl();

/** A fresh lower-case name: `p_<hex>`. */
export function fresh(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A pool closed when the test finishes, with an error handler (a terminated idle client is no crash). */
export function testPool(max = 5): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  onTestFinished(() => pool.end());
  return pool;
}

/** A schema of ours and an `orders` table in its own schema, both dropped when the test finishes. */
export async function freshTables(pool: pg.Pool): Promise<{ schema: string; data: string; orders: string }> {
  const schema = fresh('snoopy');
  const data = fresh('app');
  await pool.query(`CREATE SCHEMA ${data}`);
  await pool.query(`CREATE TABLE ${data}.orders (id bigint PRIMARY KEY, item text NOT NULL, qty integer NOT NULL DEFAULT 1)`);
  onTestFinished(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${data} CASCADE`);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
  return { schema, data, orders: `${data}.orders` };
}

/** Pulls `n` items from an async iterator, failing after `ms` with what it had. */
export async function take<T>(it: AsyncIterator<T>, n: number, ms = 30_000): Promise<T[]> {
  const out: T[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`took ${out.length} of ${n} items within ${ms} ms`);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left))),
    ]);
    clearTimeout(timer);
    if (r === 'timeout') throw new Error(`took ${out.length} of ${n} items within ${ms} ms`);
    if (r.done) throw new Error(`the iterator ended after ${out.length} of ${n} items`);
    out.push(r.value);
  }
  return out;
}

/** Asserts nothing arrives within `ms` (a bounded wait, used only to prove absence). */
export async function nothingWithin<T>(it: AsyncIterator<T>, ms: number): Promise<{ late: Promise<IteratorResult<T>> }> {
  const next = it.next();
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([next, new Promise<'none'>((resolve) => (timer = setTimeout(() => resolve('none'), ms)))]);
  clearTimeout(timer);
  if (r !== 'none') throw new Error(`expected nothing, got ${JSON.stringify(r)}`);
  return { late: next };
}

/** Polls `check` until it returns true, failing with `what` after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
