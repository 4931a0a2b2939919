// PostgreSQL-only behaviour: the migration.
import { describe, expect, it, onTestFinished } from 'vitest';
import pg from 'pg';
import { feed, postgresStore } from '../src/index.js';
import { postgresUrl } from '../../../test/setup/services-helpers.js';
import { randomName } from './helpers.js';

const url = postgresUrl();

describe.skipIf(!url)('postgresStore', () => {
  it('creates its schema, tables and index once, even from two feeds at a time, and queries by index range scans', async () => {
    const pool = new pg.Pool({ connectionString: url!, max: 4 });
    const schema = randomName('Feed');
    onTestFinished(async () => {
      await pool.query(`drop schema if exists "${schema}" cascade`);
      await pool.end();
    });
    const a = feed({ keys: ['user', 'kind'], store: postgresStore(pool, { schema, table: 'events' }) });
    const b = feed({ keys: ['user', 'kind'], store: postgresStore(pool, { schema, table: 'events' }) });
    await Promise.all([a.init(), b.init(), a.init()]);
    const tables = await pool.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = $1 order by 1`, [schema]);
    expect(tables.rows.map((r) => r.table_name)).toEqual(['events', 'events_index']);
    await a.insert({ user: 1, kind: 'play' }, { at: 1 });
    await b.insert({ user: 1, kind: 'play' }, { at: 1 });
    expect(await a.count({ user: 1, kind: 'play' })).toBe(2);
    // A filter is a backward range scan of the primary key (seq scans off: the table is tiny).
    const conn = await pool.connect();
    onTestFinished(() => conn.release());
    await conn.query(`set enable_seqscan = off`);
    await conn.query(`set enable_bitmapscan = off`);
    const plan = await conn.query(
      `explain select at, seq from "${schema}"."events_index" where ix = $1 and (at, seq) < ($2, $3) order by at desc, seq desc limit 20`,
      ['["user","1"]', 10, 10],
    );
    expect(plan.rows.map((r: Record<string, string>) => Object.values(r)[0]).join('\n')).toMatch(/Index (Only )?Scan Backward using events_index_pkey/);
    await a.close();
    await b.close();
  });
});
