import { errorCodes, OptionsError, SnoopyError } from '@snoopy/core';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  changes,
  install,
  PgNotInstalledError,
  PgPageError,
  PgQueryError,
  pull,
  resolveChangesOptions,
  resolveInstallOptions,
  resolvePullOptions,
  resolveUninstallOptions,
} from '../src/index.js';
import { fresh, testPool, url } from './helpers.js';

describe('options', () => {
  it('fill in documented defaults and freeze', () => {
    const o = resolveChangesOptions();
    expect(o).toMatchObject({ schema: 'snoopy', name: 'default', from: 'checkpoint', pollMs: 1000, batch: 500, listen: true, checkpoint: 'table', checkpointMs: 1000, retainMs: 604_800_000, sweepMs: 60_000 });
    expect(Object.isFrozen(o)).toBe(true);
    expect(resolvePullOptions({ key: 'id' }, true)).toMatchObject({ mode: 'all', every: 1000, pageSize: 500, name: 'default' });
    expect(resolveInstallOptions({ tables: ['t'] })).toEqual({ tables: ['t'], schema: 'snoopy', notify: true });
    expect(resolveUninstallOptions()).toEqual({ schema: 'snoopy', tables: undefined });
  });

  it('refuse unknown keys and bad values at construction, quoting what they got', () => {
    const pool = {} as never;
    expect(() => changes(pool, { pollMS: 5 } as never)).toThrow('Unknown changes options key `pollMS`');
    expect(() => changes(pool, { pollMs: 0 })).toThrow('Expected `pollMs` to be an integer >= 1, got `0` (number)');
    expect(() => changes(pool, { from: 'first' })).toThrow(/Expected `from` to be 'checkpoint', 'start', 'now' or a change id .*got `"first"` \(string\)/);
    expect(() => changes(pool, { schema: 'Bad-Name' })).toThrow(OptionsError);
    expect(() => changes(pool, { checkpoint: 'file' as never })).toThrow('Expected `checkpoint`');
    expect(() => pull({ pool: { query() {} } as never, query: 't' }, {})).toThrow('Expected `key` to be a column name');
    expect(() => pull((async () => ({ items: [] })) as never, { mode: 'once' as never })).toThrow("Expected `mode` to be 'all', 'newOnly' or 'backfillOnce'");
    expect(() => pull(42 as never)).toThrow('Expected the pull source to be { pool, query } or a cursor function, got `42` (number)');
    expect(() => resolveInstallOptions({ tables: [] })).toThrow('Expected `tables` to be a non-empty array of table names, got `[array of 0]` (array)');
    try {
      changes(pool, { batch: -1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'SNOOPY_OPTIONS_INVALID' });
    }
  });
});

describe('errors', () => {
  it('every postgres error class carries a code from the table with its retriable flag', () => {
    const errors: SnoopyError[] = [
      new PgQueryError('x', { cause: Object.assign(new Error('boom'), { code: '42601' }) }),
      new PgNotInstalledError('snoopy'),
      new PgPageError('bad page'),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(SnoopyError);
      expect(error.code in errorCodes).toBe(true);
      expect(error.retriable).toBe(error instanceof PgQueryError ? false : errorCodes[error.code].retriable);
    }
    expect(new PgQueryError('x', { cause: Object.assign(new Error('gone'), { code: '57P01' }) }).retriable).toBe(true);
    expect(new PgQueryError('x', { cause: new Error('ECONNREFUSED') }).retriable).toBe(true);
  });

  it('every SNOOPY_PG_ code in the table is thrown by the package source and asserted by a test', () => {
    const here = import.meta.dirname;
    const read = (dir: string): string => readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.ts')).map((f) => readFileSync(join(dir, String(f)), 'utf8')).join('\n');
    const src = read(join(here, '..', 'src'));
    const tests = read(here).replaceAll(/^.*every SNOOPY_PG_ code.*$/gm, '');
    const codes = Object.keys(errorCodes).filter((c) => c.startsWith('SNOOPY_PG_'));
    expect(codes.length).toBe(3);
    for (const code of codes) {
      expect(src, code).toContain(`'${code}'`);
      expect(tests.split(`code: '${code}'`).length - 1, `a test asserts ${code}`).toBeGreaterThan(0);
    }
  });
});

describe.skipIf(!url)('errors against the server', () => {
  it('changes() on a schema without install() fails with SNOOPY_PG_NOT_INSTALLED', async () => {
    const pool = testPool();
    const schema = fresh('none');
    const source = changes(pool, { schema, pollMs: 50 });
    await expect(source[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'SNOOPY_PG_NOT_INSTALLED' });
    // Installed afterwards, the next iteration starts.
    const table = fresh('t');
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    onTestFinished(() => pool.query(`DROP TABLE IF EXISTS ${table}; DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    await install(pool, { tables: [table], schema });
    await pool.query(`INSERT INTO ${table} VALUES (1)`);
    const it = source[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ op: 'insert', key: '1' });
    await it.return!();
    await source.close();
  });

  it('install() of a table that does not exist fails with SNOOPY_PG_QUERY (42P01) and creates nothing', async () => {
    const pool = testPool();
    const schema = fresh('snoopy');
    await expect(install(pool, { tables: ['no_such_table_x'], schema })).rejects.toMatchObject({ code: 'SNOOPY_PG_QUERY', pgCode: '42P01' });
    expect((await pool.query('SELECT to_regnamespace($1) AS ns', [schema])).rows).toEqual([{ ns: null }]);
  });

  it('close() is idempotent and merges concurrent callers; asyncDispose is close()', async () => {
    const pool = testPool();
    const source = changes(pool, { schema: fresh('none') });
    const [a, b] = [source.close(), source.close()];
    expect(a).toBe(b);
    await a;
    expect(source[Symbol.asyncDispose]()).toBe(a);
    await expect(source.sweep()).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
  });
});
