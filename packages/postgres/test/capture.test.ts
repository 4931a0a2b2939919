import { ack } from '@snoopy/core';
import { describe, expect, it } from 'vitest';
import { changes, install, uninstall, type Change } from '../src/index.js';
import { freshTables, nothingWithin, take, testPool, url } from './helpers.js';

describe.skipIf(!url)('install() and changes(): capture', () => {
  it('insert, update, delete yield the right records with old and new rows, changed columns, key and request id', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    const installed = await install(pool, { tables: [orders], schema });
    expect(installed).toEqual([{ table: orders, primaryKey: ['id'] }]);
    await install(pool, { tables: [orders], schema }); // idempotent

    await pool.query(`INSERT INTO ${orders} (id, item) VALUES (1, 'tea')`);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SET LOCAL snoopy.request_id = 'req-42'");
      await client.query(`UPDATE ${orders} SET qty = 3 WHERE id = 1`);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await pool.query(`DELETE FROM ${orders} WHERE id = 1`);

    await using source = changes(pool, { schema, pollMs: 50 });
    const it = source[Symbol.asyncIterator]();
    const got = await take(it, 3);
    expect(got.map((c) => c.op)).toEqual(['insert', 'update', 'delete']);
    const [ins, upd, del] = got as [Change, Change, Change];
    expect(ins).toMatchObject({ table: orders, key: '1', old: null, new: { id: '1', item: 'tea', qty: 1 }, changed: null, requestId: null });
    expect(upd).toMatchObject({ key: '1', old: { id: '1', item: 'tea', qty: 1 }, new: { id: '1', item: 'tea', qty: 3 }, changed: ['qty'], requestId: 'req-42' });
    expect(del).toMatchObject({ key: '1', old: { id: '1', item: 'tea', qty: 3 }, new: null });
    expect(ins.at).toBeInstanceOf(Date);
    expect(ins.id).toBe(`${ins.txid}/${ins.seq}`);
    for (const c of got) source[ack](c);
    await source.commit();
    expect(source.checkpoint).toBe(del.id);
    await it.return!();
  });

  it('multi-row statements record every row, in statement order', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await pool.query(`INSERT INTO ${orders} (id, item) SELECT g, 'bulk' FROM generate_series(1, 5) g`);
    await pool.query(`UPDATE ${orders} SET qty = qty + 1 WHERE id IN (2, 4)`);
    await pool.query(`DELETE FROM ${orders} WHERE id >= 4`);
    const { rows } = await pool.query(`SELECT op, key, (new_row ->> 'qty') AS qty FROM ${schema}.changes ORDER BY txid, seq`);
    expect(rows.map((r) => `${r.op} ${r.key}${r.qty === null ? '' : ` ${r.qty}`}`)).toEqual([
      'insert 1 1', 'insert 2 1', 'insert 3 1', 'insert 4 1', 'insert 5 1', 'update 2 2', 'update 4 2', 'delete 4', 'delete 5',
    ]);
  });

  it('a no-op update and a rolled-back transaction record nothing', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await pool.query(`INSERT INTO ${orders} (id, item) VALUES (1, 'tea')`);
    await pool.query(`UPDATE ${orders} SET item = 'tea' WHERE id = 1`); // no-op
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${orders} (id, item) VALUES (2, 'rolled back')`);
      await client.query(`UPDATE ${orders} SET qty = 9 WHERE id = 1`);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    await pool.query(`INSERT INTO ${orders} (id, item) VALUES (3, 'coffee')`);

    const { rows } = await pool.query(`SELECT op, key FROM ${schema}.changes ORDER BY txid, seq`);
    expect(rows).toEqual([{ op: 'insert', key: '1' }, { op: 'insert', key: '3' }]);
    await using source = changes(pool, { schema, pollMs: 50 });
    const it = source[Symbol.asyncIterator]();
    expect((await take(it, 2)).map((c) => c.key)).toEqual(['1', '3']);
    await nothingWithin(it, 300);
    await it.return!();
  });

  it('maps bigint, numeric, timestamptz and bytea as documented; a composite key joins its values', async () => {
    const pool = testPool();
    const { schema, data } = await freshTables(pool);
    const table = `${data}.typed`;
    await pool.query(`CREATE TABLE ${table} (a int, b text, big bigint, num numeric, ts timestamptz, bin bytea, flag boolean, doc jsonb, PRIMARY KEY (b, a))`);
    await install(pool, { tables: [table], schema });
    await pool.query(
      `INSERT INTO ${table} VALUES (7, 'x', 9007199254740993, 12345678901234567890.125, '2026-11-30 01:02:03.5+00', '\\x0102ff', true, '{"k": [1, "v"]}')`,
    );
    await pool.query(`INSERT INTO ${table} (a, b) VALUES (8, 'y')`);
    await using source = changes(pool, { schema, pollMs: 50 });
    const it = source[Symbol.asyncIterator]();
    const [first, second] = await take(it, 2);
    expect(first!.key).toBe('x,7');
    const row = first!.new!;
    expect(row.big).toBe('9007199254740993');
    expect(row.num).toBe('12345678901234567890.125');
    expect(typeof row.ts).toBe('string');
    expect(new Date(row.ts as string).toISOString()).toBe('2026-11-30T01:02:03.500Z');
    expect(row.bin).toBe('\\x0102ff');
    expect(Buffer.from((row.bin as string).slice(2), 'hex')).toEqual(Buffer.from([1, 2, 255]));
    expect(row).toMatchObject({ a: 7, flag: true, doc: { k: [1, 'v'] } });
    expect(second!.new).toMatchObject({ a: 8, b: 'y', big: null, num: null, bin: null });
    await it.return!();
  });

  it('uninstall() of one table stops its capture; uninstall() of all drops the schema', async () => {
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    await pool.query(`INSERT INTO ${orders} (id, item) VALUES (1, 'tea')`);
    const functions = `SELECT count(*)::int AS n FROM pg_proc WHERE pronamespace = to_regnamespace($1) AND proname LIKE 'capture\\_%\\_%'`;
    expect((await pool.query(functions, [schema])).rows).toEqual([{ n: 2 }]);
    await uninstall(pool, { schema, tables: [orders] });
    expect((await pool.query(functions, [schema])).rows).toEqual([{ n: 0 }]);
    await pool.query(`INSERT INTO ${orders} (id, item) VALUES (2, 'not recorded')`);
    expect((await pool.query(`SELECT key FROM ${schema}.changes`)).rows).toEqual([{ key: '1' }]);
    await install(pool, { tables: [orders], schema });
    await uninstall(pool, { schema });
    const { rows } = await pool.query(`SELECT to_regnamespace($1) AS ns, (SELECT count(*)::int FROM pg_trigger t WHERE t.tgrelid = $2::regclass AND NOT t.tgisinternal) AS triggers`, [schema, orders]);
    expect(rows).toEqual([{ ns: null, triggers: 0 }]);
    await pool.query(`INSERT INTO ${orders} (id, item) VALUES (3, 'fine without triggers')`);
  });

  it('only the tables asked for are yielded; the others are read past', async () => {
    const pool = testPool();
    const { schema, data, orders } = await freshTables(pool);
    await pool.query(`CREATE TABLE ${data}.other (id int PRIMARY KEY)`);
    await install(pool, { tables: [orders, `${data}.other`], schema });
    await pool.query(`INSERT INTO ${data}.other VALUES (1)`);
    await pool.query(`INSERT INTO ${orders} (id, item) VALUES (5, 'tea')`);
    await pool.query(`INSERT INTO ${data}.other VALUES (2)`);
    await pool.query(`INSERT INTO ${orders} (id, item) VALUES (6, 'cake')`);
    await using source = changes(pool, { schema, pollMs: 50, tables: [orders] });
    const it = source[Symbol.asyncIterator]();
    const [first] = await take(it, 1);
    expect(first).toMatchObject({ table: orders, key: '5' });
    // The other table's change before it is done, the wanted one is not: the checkpoint does not
    // pass it, nor the other table's change after it.
    const { rows: [{ id: before }] } = await pool.query(`SELECT txid::text || '/' || seq::text AS id FROM ${schema}.changes ORDER BY txid, seq LIMIT 1`);
    expect(source.checkpoint).toBe(before);
    source[ack](first!);
    expect(source.checkpoint).toBe(first!.id);
    const [second] = await take(it, 1);
    expect(second).toMatchObject({ table: orders, key: '6' });
    source[ack](second!);
    expect(source.checkpoint).toBe(second!.id);
    await nothingWithin(it, 300);
    await it.return!();
  });
});
