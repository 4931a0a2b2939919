/** What happened to a row. */
export type ChangeOp = 'insert' | 'update' | 'delete';

/**
 * One recorded change of one row, as `changes()` yields it. Rows are the table's row as JSON
 * (PostgreSQL's `to_jsonb`), with these mappings:
 *
 * - `smallint`, `integer`, `real`, `double precision` → number
 * - `bigint`, `numeric`, `money` → string with the exact digits (`"9007199254740993"`), as
 *   node-postgres returns them; `NaN`/`Infinity` numerics too
 * - `timestamptz` → ISO 8601 string with the session's offset (`"2026-11-30T01:02:03.5+00:00"`);
 *   `timestamp` without a zone and `date` → ISO strings without an offset
 * - `bytea` → `"\\x"` followed by hex digits (`Buffer.from(v.slice(2), 'hex')` decodes it)
 * - `boolean` → boolean, `json`/`jsonb` → the JSON value, arrays → JSON arrays (a `bigint[]`
 *   holds numbers: cast it in a view if its values exceed 2^53), `uuid`/`text`/enums → string,
 *   `NULL` → null
 */
export interface Change<Row = Record<string, unknown>> {
  /** Resume token and position: `'<txid>/<seq>'`. `changes(pool, { from: id })` starts after it. */
  readonly id: string;
  /** Schema-qualified table: `public.orders`. */
  readonly table: string;
  readonly op: ChangeOp;
  /** Primary key values joined with `,` (`'42'`, `'7,2026-01-01'`); null for a table without one. */
  readonly key: string | null;
  /** The row before an update or delete; null for an insert. */
  readonly old: Row | null;
  /** The row after an insert or update; null for a delete. */
  readonly new: Row | null;
  /** Columns an update changed, sorted; null for inserts and deletes. */
  readonly changed: readonly string[] | null;
  /** The transaction's id (`xid8`, as a decimal string). */
  readonly txid: string;
  /** The change's sequence number in the change table (decimal string). */
  readonly seq: string;
  /** `SET LOCAL snoopy.request_id = '...'` of the writing transaction, if it set one. */
  readonly requestId: string | null;
  /** When the writing transaction started. */
  readonly at: Date;
}

/** Counters of a `changes()` source, for graphs and tests. */
export interface ChangesStats {
  /** Changes read from the table (including those of tables filtered out). */
  readonly read: number;
  /** Changes yielded to the consumer. */
  readonly yielded: number;
  readonly acked: number;
  readonly polls: number;
  /** NOTIFY wake-ups received. */
  readonly notifications: number;
  /** LISTEN connections opened (1 + reconnections after a lost one). */
  readonly listens: number;
  /** Listener connections lost. */
  readonly listenerErrors: number;
  /** Checkpoint writes. */
  readonly checkpoints: number;
  /** Changes deleted by retention sweeps. */
  readonly swept: number;
  /** Changes yielded and not yet inside the acknowledged prefix. */
  readonly inFlight: number;
}

/** One page from a cursor function given to `pull()`. */
export interface Page<T, C> {
  readonly items: readonly T[];
  /** Cursor of the page after this one; `undefined`/`null` when there is none yet. */
  readonly next?: C | null;
}

/** A paged source for `pull()`: an HTTP API that lists by cursor, say. */
export type PageFunction<T, C> = (cursor: C | undefined, page: { readonly limit: number; readonly signal: AbortSignal }) => Promise<Page<T, C>>;

/** A SQL source for `pull()`: a table name or a `SELECT`, paged by `options.key`. */
export interface PgQuery {
  readonly pool: import('pg').Pool;
  /** `'orders'`, `'shop.orders'` or `'SELECT id, total FROM orders WHERE paid'`. */
  readonly query: string;
  /** Parameters of the query (`$1`, `$2`...), before pull()'s own. @default [] */
  readonly params?: readonly unknown[];
}
