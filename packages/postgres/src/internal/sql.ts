/** @internal Quotes a PostgreSQL identifier: `"name"`, with inner quotes doubled. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** @internal Quotes a SQL string literal. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** @internal The channel the statement trigger notifies and `changes()` listens on. */
export function channelName(schema: string): string {
  return `${schema}_changes`;
}

/** @internal The objects `install()` creates in our schema (idempotent: safe to run again). */
export function schemaSql(schema: string): string {
  const s = ident(schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.changes (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  at timestamptz NOT NULL DEFAULT now(),
  table_name text NOT NULL,
  op text NOT NULL,
  key text,
  old_row jsonb,
  new_row jsonb,
  changed text[],
  request_id text,
  PRIMARY KEY (txid, seq)
);
CREATE TABLE IF NOT EXISTS ${s}.checkpoints (
  name text PRIMARY KEY,
  txid xid8 NOT NULL,
  seq bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION ${s}.capture() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  o jsonb;
  n jsonb;
  ch text[];
  k text;
  c text;
BEGIN
  IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
  IF TG_OP = 'UPDATE' THEN
    IF o = n THEN RETURN NULL; END IF;
    SELECT array_agg(e.key ORDER BY e.key) INTO ch FROM jsonb_each(n) e WHERE e.value IS DISTINCT FROM o -> e.key;
  END IF;
  IF TG_ARGV[1] <> '' THEN
    FOREACH c IN ARRAY string_to_array(TG_ARGV[1], ',') LOOP
      IF o ->> c IS NOT NULL THEN o := jsonb_set(o, ARRAY[c], to_jsonb(o ->> c)); END IF;
      IF n ->> c IS NOT NULL THEN n := jsonb_set(n, ARRAY[c], to_jsonb(n ->> c)); END IF;
    END LOOP;
  END IF;
  IF TG_NARGS > 2 THEN
    k := COALESCE(n, o) ->> TG_ARGV[2];
  ELSIF TG_ARGV[0] <> '' THEN
    SELECT string_agg(COALESCE(n, o) ->> u.p, ',' ORDER BY u.i) INTO k
      FROM unnest(string_to_array(TG_ARGV[0], ',')) WITH ORDINALITY AS u(p, i);
  END IF;
  INSERT INTO ${s}.changes (table_name, op, key, old_row, new_row, changed, request_id)
  VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, lower(TG_OP), k, o, n, ch,
          NULLIF(current_setting('snoopy.request_id', true), ''));
  RETURN NULL;
END
$fn$;
CREATE OR REPLACE FUNCTION ${s}.notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], '');
  RETURN NULL;
END
$fn$;
`;
}

/** @internal Every trigger name `install()` may create for `schema`. */
export function triggerNames(schema: string): string[] {
  return [`${schema}_capture`, `${schema}_capture_ins`, `${schema}_capture_del`, `${schema}_notify`];
}

/**
 * @internal A statement trigger function for one table's inserts or deletes: one
 * `INSERT ... SELECT` over the transition table `snoopy_rows`, in its order, with bigint/numeric
 * columns as exact-digit strings and the primary key as text joined with `,`.
 */
export function bulkCaptureFunction(schema: string, fn: string, op: 'insert' | 'delete', primaryKey: readonly string[], exact: readonly string[]): string {
  const s = ident(schema);
  const row = exact.length === 0
    ? 'to_jsonb(r)'
    : `to_jsonb(r) || jsonb_build_object(${exact.map((c) => `${literal(c)}, r.${ident(c)}::text`).join(', ')})`;
  const key = primaryKey.length === 0 ? 'NULL::text' : primaryKey.length === 1 ? `j ->> ${literal(primaryKey[0]!)}` : `concat_ws(',', ${primaryKey.map((c) => `j ->> ${literal(c)}`).join(', ')})`;
  const column = op === 'insert' ? 'new_row' : 'old_row';
  return `
CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO ${s}.changes (table_name, op, key, ${column}, request_id)
  SELECT TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, '${op}', ${key}, j, NULLIF(current_setting('snoopy.request_id', true), '')
    FROM (SELECT ${row} AS j FROM snoopy_rows AS r) AS t;
  RETURN NULL;
END
$fn$;`;
}
