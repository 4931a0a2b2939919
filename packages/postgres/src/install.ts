import type { Pool, PoolClient } from 'pg';
import { PgQueryError } from './errors.js';
import { bulkCaptureFunction, channelName, ident, literal, schemaSql, triggerNames } from './internal/sql.js';
import { resolveInstallOptions, resolveUninstallOptions, type InstallOptions, type UninstallOptions } from './options.js';

/** Column types recorded as JSON strings (exact digits) instead of JSON numbers. */
const textTypes = ['int8', 'numeric', 'money'];

/** What `install()` set up for one table. */
export interface InstalledTable {
  /** Schema-qualified name, as changes record it: `public.orders`. */
  readonly table: string;
  /** Primary key columns, in key order; a change's `key` is their values joined with `,`. */
  readonly primaryKey: readonly string[];
}

async function inTransaction<T>(pool: Pool, what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new PgQueryError(`${what} (connect)`, { cause: error });
  }
  let failed: unknown;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failed = error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error instanceof PgQueryError ? error : new PgQueryError(what, { cause: error });
  } finally {
    client.release(failed !== undefined && (failed as { code?: string }).code?.startsWith('08') ? (failed as Error) : undefined);
  }
}

interface Resolved {
  readonly oid: number;
  readonly table: string;
  /** The quoted name for SQL text. */
  readonly target: string;
}

/** Resolves table names (search path applies) to their oid and schema-qualified name. */
async function resolveTables(client: PoolClient, tables: readonly string[]): Promise<Resolved[]> {
  const found: Resolved[] = [];
  for (const name of tables) {
    const { rows } = await client.query<Resolved>(
      `SELECT c.oid::int AS oid, n.nspname || '.' || c.relname AS table,
              quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS target
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass($1)`,
      [name],
    );
    if (rows.length === 0) throw new PgQueryError(`install: table ${JSON.stringify(name)}`, { cause: { code: '42P01', message: `relation "${name}" does not exist` } });
    found.push(rows[0]!);
  }
  return found;
}

/**
 * Creates (idempotently) the change table, the checkpoints table and the trigger functions in
 * `schema`, and a row trigger (plus a NOTIFY statement trigger) on each table. Running it again
 * after `ALTER TABLE` refreshes what the trigger knows of the table (primary key, bigint/numeric
 * columns). Fails with `SNOOPY_PG_QUERY` (`pgCode` `42P01`) for a table that does not exist.
 */
export async function install(pool: Pool, options: InstallOptions): Promise<InstalledTable[]> {
  const o = resolveInstallOptions(options);
  const s = ident(o.schema);
  return inTransaction(pool, 'install', async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`snoopy.install.${o.schema}`]);
    await client.query(schemaSql(o.schema));
    const installed: InstalledTable[] = [];
    for (const { oid, table, target } of await resolveTables(client, o.tables)) {
      const { rows: pk } = await client.query<{ name: string }>(
        `SELECT a.attname AS name
           FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
          WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
        [oid],
      );
      const { rows: exact } = await client.query<{ name: string }>(
        `SELECT a.attname AS name FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
          WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND t.typname = ANY($2) ORDER BY a.attnum`,
        [oid, textTypes],
      );
      const primaryKey = pk.map((r) => r.name);
      // Arguments: primary key columns, exact-digit columns, and the key column again when the
      // key is a single column (the trigger's fast path, no subquery per row).
      const argv = [primaryKey.join(','), exact.map((r) => r.name).join(',')];
      if (primaryKey.length === 1) argv.push(primaryKey[0]!);
      const args = argv.map(literal).join(', ');
      // Updates: a row trigger (it compares each old row with its new one).
      await client.query(
        `CREATE OR REPLACE TRIGGER ${ident(`${o.schema}_capture`)} AFTER UPDATE ON ${target}
           FOR EACH ROW EXECUTE FUNCTION ${s}.capture(${args})`,
      );
      // Inserts and deletes: one INSERT ... SELECT per statement over its transition table, from a
      // function generated for this table's columns (a bulk INSERT records its rows in one go).
      for (const [op, transition, suffix] of [['insert', 'NEW', 'ins'], ['delete', 'OLD', 'del']] as const) {
        const fn = `${s}.${ident(`capture_${suffix}_${oid}`)}`;
        await client.query(bulkCaptureFunction(o.schema, fn, op, primaryKey, exact.map((r) => r.name)));
        await client.query(
          `CREATE OR REPLACE TRIGGER ${ident(`${o.schema}_capture_${suffix}`)} AFTER ${op.toUpperCase()} ON ${target}
             REFERENCING ${transition} TABLE AS snoopy_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
        );
      }
      if (o.notify) {
        await client.query(
          `CREATE OR REPLACE TRIGGER ${ident(`${o.schema}_notify`)} AFTER INSERT OR UPDATE OR DELETE ON ${target}
             FOR EACH STATEMENT EXECUTE FUNCTION ${s}.notify(${literal(channelName(o.schema))})`,
        );
      } else {
        await client.query(`DROP TRIGGER IF EXISTS ${ident(`${o.schema}_notify`)} ON ${target}`);
      }
      installed.push({ table, primaryKey });
    }
    return installed;
  });
}

/**
 * Removes what `install()` created: the triggers of `tables` only, or, without `tables`, the
 * triggers of every table and the schema with its recorded changes and checkpoints.
 */
export async function uninstall(pool: Pool, options: UninstallOptions = {}): Promise<void> {
  const o = resolveUninstallOptions(options);
  await inTransaction(pool, 'uninstall', async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`snoopy.install.${o.schema}`]);
    const targets: { target: string; oid?: number }[] = [];
    if (o.tables !== undefined) {
      for (const { target, oid } of await resolveTables(client, o.tables)) targets.push({ target, oid });
    } else {
      const { rows } = await client.query<{ table: string }>(
        `SELECT DISTINCT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE t.tgname = ANY($1)`,
        [triggerNames(o.schema)],
      );
      targets.push(...rows.map((r) => ({ target: r.table })));
    }
    for (const { target, oid } of targets) {
      for (const name of triggerNames(o.schema)) await client.query(`DROP TRIGGER IF EXISTS ${ident(name)} ON ${target}`);
      // The table's generated functions (without `tables`, DROP SCHEMA ... CASCADE takes them).
      if (oid !== undefined && (await client.query('SELECT to_regnamespace($1) AS ns', [o.schema])).rows[0].ns !== null) {
        for (const suffix of ['ins', 'del']) await client.query(`DROP FUNCTION IF EXISTS ${ident(o.schema)}.${ident(`capture_${suffix}_${oid}`)}()`);
      }
    }
    if (o.tables === undefined) await client.query(`DROP SCHEMA IF EXISTS ${ident(o.schema)} CASCADE`);
  });
}
