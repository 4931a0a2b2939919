import { OptionsError, describeValue } from '@snoopy/core';
import type { Pool } from 'pg';
import { FeedStoreError } from './errors.js';
import { expectKnownKeys, expectName, expectObject, type PostgresStoreOptions } from './options.js';
import type { FeedStore, NewRecord, StoredRecord } from './store.js';
import type { Cursor } from './types.js';
import { newerFirst } from './internal/order.js';

/** What the store needs of a `pg` Pool (or Client): `query`. */
export type Queryable = Pick<Pool, 'query'>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;
const quote = (name: string): string => `"${name}"`;

interface Statements {
  readonly init: string;
  readonly seqs: string;
  readonly insert: string;
  readonly page: string;
  readonly pageBefore: string;
  readonly pageMany: string;
  readonly pageManyBefore: string;
  readonly load: string;
  readonly count: string;
  readonly nth: string;
  readonly removeOlder: string;
}

function statements(schema: string, table: string): Statements {
  const t = `${quote(schema)}.${quote(table)}`;
  const ti = `${quote(schema)}.${quote(`${table}_index`)}`;
  const seq = `${quote(schema)}.${quote(`${table}_seq`)}`;
  return {
    // One implicit transaction (a simple query), under a lock, so that two processes can init at once.
    init: `begin;
select pg_advisory_xact_lock(hashtext('snoopy-feed:${schema}.${table}'));
create schema if not exists ${quote(schema)};
create sequence if not exists ${seq};
create table if not exists ${t} (seq bigint primary key, at bigint not null, event json not null, ix json not null);
create index if not exists ${quote(`${table}_at`)} on ${t} (at, seq);
create table if not exists ${ti} (ix text not null, at bigint not null, seq bigint not null, primary key (ix, at, seq));
commit;`,
    seqs: `select nextval('${seq}')::text as seq from generate_series(1, $1::int)`,
    // One statement: the events and their index rows are written together or not at all.
    insert: `with e as (insert into ${t} (seq, at, event, ix) select * from unnest($1::bigint[], $2::bigint[], $3::json[], $4::json[]))
insert into ${ti} (ix, at, seq) select * from unnest($5::text[], $6::bigint[], $7::bigint[])`,
    page: `select at::text as a, seq::text as s from ${ti} where ix = $1 order by at desc, seq desc limit $2`,
    pageBefore: `select at::text as a, seq::text as s from ${ti} where ix = $1 and (at, seq) < ($2::bigint, $3::bigint) order by at desc, seq desc limit $4`,
    // Every index of an OR in one statement: a LATERAL range scan per index, each stopping at the limit.
    pageMany: `select q.i, p.a, p.s from unnest($1::text[]) with ordinality as q(ix, i)
cross join lateral (select at::text as a, seq::text as s from ${ti} where ${ti}.ix = q.ix order by at desc, seq desc limit $2) p`,
    pageManyBefore: `select q.i, p.a, p.s from unnest($1::text[]) with ordinality as q(ix, i)
cross join lateral (select at::text as a, seq::text as s from ${ti} where ${ti}.ix = q.ix and (at, seq) < ($3::bigint, $4::bigint) order by at desc, seq desc limit $2) p`,
    load: `select seq::text, at::text, event from ${t} where seq = any($1::bigint[])`,
    count: `select count(*)::text as n from ${ti} where ix = $1`,
    nth: `select at::text as a, seq::text as s from ${ti} where ix = $1 order by at desc, seq desc offset $2 limit 1`,
    removeOlder: `with victims as (select seq from ${t} where (at, seq) < ($1::bigint, $2::bigint) order by at, seq limit $3),
d as (delete from ${t} using victims where ${t}.seq = victims.seq returning ${t}.seq, ${t}.at, ${t}.ix),
di as (delete from ${ti} using (select json_array_elements_text(d.ix) as ix, d.at, d.seq from d) x
       where ${ti}.ix = x.ix and ${ti}.at = x.at and ${ti}.seq = x.seq)
select count(*)::int as n from d`,
  };
}

// Aliased, so that ORDER BY at, seq sorts the bigint columns rather than their text.
interface PositionRow {
  a: string;
  s: string;
}

const position = (row: PositionRow): Cursor => ({ at: Number(row.a), seq: Number(row.s) });

/**
 * Keeps a feed in PostgreSQL: a table of events and a table of index rows whose primary key
 * `(ix, at, seq)` makes every query an index range scan. `init()` creates both (idempotent).
 * The caller owns the pool: closing the feed does not end it.
 */
class PostgresStore implements FeedStore {
  readonly name: string;
  readonly #db: Queryable;
  readonly #sql: Statements;

  constructor(db: Queryable, schema: string, table: string) {
    this.name = `postgres:${schema}.${table}`;
    this.#db = db;
    this.#sql = statements(schema, table);
  }

  async #query<R extends object>(what: string, text: string, values?: unknown[]): Promise<R[]> {
    try {
      const result = await this.#db.query<R>(text, values);
      return result.rows;
    } catch (cause) {
      throw new FeedStoreError(this.name, what, { cause });
    }
  }

  async init(): Promise<void> {
    await this.#query('init', this.#sql.init);
  }

  async append(records: readonly NewRecord[]): Promise<number[]> {
    const rows = await this.#query<{ seq: string }>('write', this.#sql.seqs, [records.length]);
    const seqs = rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
    const ats: number[] = [];
    const events: string[] = [];
    const ixs: string[] = [];
    const indexNames: string[] = [];
    const indexAts: number[] = [];
    const indexSeqs: number[] = [];
    records.forEach((r, i) => {
      ats.push(r.at);
      events.push(JSON.stringify(r.event));
      ixs.push(JSON.stringify(r.indexes));
      for (const ix of r.indexes) {
        indexNames.push(ix);
        indexAts.push(r.at);
        indexSeqs.push(seqs[i]!);
      }
    });
    await this.#query('write', this.#sql.insert, [seqs, ats, events, ixs, indexNames, indexAts, indexSeqs]);
    return seqs;
  }

  async page(index: string, before: Cursor | undefined, limit: number): Promise<Cursor[]> {
    const rows =
      before === undefined
        ? await this.#query<PositionRow>('read', this.#sql.page, [index, limit])
        : await this.#query<PositionRow>('read', this.#sql.pageBefore, [index, before.at, before.seq, limit]);
    return rows.map(position);
  }

  async pageMany(indexes: readonly string[], before: Cursor | undefined, limit: number): Promise<Cursor[][]> {
    const rows =
      before === undefined
        ? await this.#query<PositionRow & { i: string }>('read', this.#sql.pageMany, [indexes, limit])
        : await this.#query<PositionRow & { i: string }>('read', this.#sql.pageManyBefore, [indexes, limit, before.at, before.seq]);
    const lists: Cursor[][] = indexes.map(() => []);
    for (const row of rows) lists[Number(row.i) - 1]!.push(position(row));
    // Each list newest first, whatever order the rows came in.
    for (const list of lists) list.sort(newerFirst);
    return lists;
  }

  async load(positions: readonly Cursor[]): Promise<(StoredRecord | undefined)[]> {
    if (positions.length === 0) return [];
    const rows = await this.#query<{ seq: string; at: string; event: unknown }>('read', this.#sql.load, [positions.map((p) => p.seq)]);
    const bySeq = new Map<number, StoredRecord>();
    for (const r of rows) bySeq.set(Number(r.seq), { at: Number(r.at), seq: Number(r.seq), event: r.event });
    return positions.map((p) => bySeq.get(p.seq));
  }

  async count(index: string): Promise<number> {
    const [row] = await this.#query<{ n: string }>('count', this.#sql.count, [index]);
    return Number(row!.n);
  }

  async nth(index: string, n: number): Promise<Cursor | undefined> {
    const [row] = await this.#query<PositionRow>('read', this.#sql.nth, [index, n]);
    return row === undefined ? undefined : position(row);
  }

  async removeOlder(cutoff: Cursor, limit: number): Promise<number> {
    const [row] = await this.#query<{ n: number }>('sweep', this.#sql.removeOlder, [cutoff.at, cutoff.seq, limit]);
    return row!.n;
  }

  async close(): Promise<void> {
    // The pool belongs to the caller.
  }
}

/**
 * A feed store on a `pg` Pool, in tables `<schema>.<table>` and `<schema>.<table>_index`
 * (one feed per table). `feed.init()` (or the first call) creates them.
 */
export function postgresStore(pool: Queryable, options: PostgresStoreOptions = {}): FeedStore {
  if (typeof pool !== 'object' || pool === null || typeof (pool as Partial<Queryable>).query !== 'function') {
    throw new OptionsError(`Expected a pg Pool (new pg.Pool({ connectionString })), got ${describeValue(pool)}`);
  }
  const o = expectObject('postgresStore options', options);
  expectKnownKeys('postgresStore', o, ['schema', 'table']);
  const rule = 'an SQL identifier (letters, digits, _; at most 41 characters)';
  const schema = expectName('schema', o.schema ?? 'public', IDENTIFIER, rule);
  const table = expectName('table', o.table ?? 'feed', IDENTIFIER, rule);
  return new PostgresStore(pool, schema, table);
}
