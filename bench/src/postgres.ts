// bench/postgres: @snoopy/postgres change capture, in one run.
//   capture:  changes() through core (snap, no-op handler, no-op sink, acknowledgements and
//             checkpoints) against a hand-written polling loop over the same change table (same
//             commit-safe query and batch size, checkpoint row updated after every batch);
//   triggers: insert throughput into a table with the capture and NOTIFY triggers (and with the
//             capture trigger only) against the same table without them (single-row INSERTs,
//             autocommit, and one 10 000-row INSERT ... SELECT);
//   latency:  commit -> handler with NOTIFY on (pollMs 1000), against polling every 100 ms.
// Run: npx tsc -b packages/postgres bench && node bench/dist/postgres.js
// Env: SNOOPY_PG_URL (a server to use; default: start one with test/postgres/postgres.mjs),
//      BENCH_CHANGES (20000), BENCH_ROWS (2000 single-row inserts), BENCH_ROUNDS (5),
//      BENCH_LATENCY (200 commits).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { Registry, setRootLogger } from '@snoopy/core';
import { changes, install, type Change } from '@snoopy/postgres';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 20_000);
const ROWS = Number(process.env.BENCH_ROWS ?? 2_000);
const BULK = 10_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LATENCY = Number(process.env.BENCH_LATENCY ?? 200);
const BATCH = 500;

setRootLogger(pino({ level: 'silent' }));
const root = join(import.meta.dirname, '..', '..');
let server: { url: string; stop(): Promise<void> } | undefined;
let url = process.env.SNOOPY_PG_URL;
if (!url) {
  const launcher = (await import(pathToFileURL(join(root, 'test', 'postgres', 'postgres.mjs')).href)) as {
    startPostgres(): Promise<{ url: string; stop(): Promise<void> }>;
  };
  server = await launcher.startPostgres();
  url = server.url;
}
const pool = new pg.Pool({ connectionString: url, max: 6 });
pool.on('error', () => undefined);
const S = `bench_${process.pid}`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

await pool.query(`DROP SCHEMA IF EXISTS ${S}_app CASCADE; DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}_app`);
for (const t of ['captured', 'quiet', 'plain', 'feed']) {
  await pool.query(`CREATE TABLE ${S}_app.${t} (id bigint PRIMARY KEY, item text NOT NULL, qty integer NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
}
await install(pool, { tables: [`${S}_app.captured`, `${S}_app.feed`], schema: S });
await install(pool, { tables: [`${S}_app.quiet`], schema: S, notify: false });

// The change table for the capture cases: CHANGES inserts in statements of 1 000 rows.
for (let i = 0; i < CHANGES; i += 1000) {
  await pool.query(`INSERT INTO ${S}_app.feed SELECT g, 'item ' || g, g % 7 FROM generate_series($1::int, $2::int) g`, [i + 1, Math.min(i + 1000, CHANGES)]);
}

/** Snoopy: changes() as a snap source, a no-op handler and sink, until every change is acknowledged. */
async function snoopyCapture(round: number): Promise<number> {
  const registry = new Registry();
  const source = changes(pool, { schema: S, name: `snoopy-${round}`, from: 'start', batch: BATCH, retainMs: 0, tables: [`${S}_app.feed`] });
  const stop = new AbortController();
  let n = 0;
  let last = 0;
  registry.snap(source, {
    sink: [
      () => {
        if (++n === CHANGES) {
          last = performance.now();
          setImmediate(() => stop.abort());
        }
      },
    ],
  })((change: Change) => change.key);
  const t0 = performance.now();
  await registry.stream({ signal: stop.signal, handleSignals: false, progress: false });
  // Until the sink finished the last change (the stream's own shutdown is not capture).
  const ms = last - t0;
  await source.close();
  if (source.stats().acked !== CHANGES) throw new Error(`snoopy acknowledged ${source.stats().acked} of ${CHANGES}`);
  return (CHANGES / ms) * 1000;
}

/** What a user writes by hand: poll the same query, handle each row, store the position per batch. */
async function handCapture(round: number): Promise<number> {
  const name = `hand-${round}`;
  let txid = '0';
  let seq = '0';
  let n = 0;
  const t0 = performance.now();
  while (n < CHANGES) {
    const { rows } = await pool.query<{ seq: string; txid: string; table_name: string; key: string; new_row: unknown }>(
      `SELECT c.seq::text, c.txid::text, c.at, c.table_name, c.op, c.key, c.old_row, c.new_row, c.changed, c.request_id
         FROM ${S}.changes c
        WHERE (c.txid, c.seq) > ($1::xid8, $2::bigint) AND c.txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY c.txid, c.seq LIMIT $3`,
      [txid, seq, BATCH],
    );
    for (const row of rows) {
      if (row.table_name === `${S}_app.feed`) n++;
    }
    if (rows.length === 0) break;
    txid = rows.at(-1)!.txid;
    seq = rows.at(-1)!.seq;
    await pool.query(
      `INSERT INTO ${S}.checkpoints (name, txid, seq) VALUES ($1, $2::xid8, $3::bigint)
       ON CONFLICT (name) DO UPDATE SET txid = excluded.txid, seq = excluded.seq, updated_at = now()`,
      [name, txid, seq],
    );
  }
  const ms = performance.now() - t0;
  if (n !== CHANGES) throw new Error(`hand-written loop saw ${n} of ${CHANGES}`);
  return (CHANGES / ms) * 1000;
}

let nextId = 1_000_000;
/** Single-row INSERTs, one after another on one connection (autocommit), rows/s. */
async function singleInserts(table: string): Promise<number> {
  const client = await pool.connect();
  try {
    const t0 = performance.now();
    for (let i = 0; i < ROWS; i++) await client.query(`INSERT INTO ${S}_app.${table} (id, item, qty) VALUES ($1, $2, $3)`, [nextId++, 'tea', i % 5]);
    return (ROWS / (performance.now() - t0)) * 1000;
  } finally {
    client.release();
  }
}

/** One INSERT ... SELECT of BULK rows, rows/s. */
async function bulkInsert(table: string): Promise<number> {
  const from = nextId;
  nextId += BULK;
  const t0 = performance.now();
  await pool.query(`INSERT INTO ${S}_app.${table} (id, item, qty) SELECT g, 'tea', g % 5 FROM generate_series($1::bigint, $2::bigint) g`, [from, from + BULK - 1]);
  return (BULK / (performance.now() - t0)) * 1000;
}

/** Commit -> handler latency (ms) for LATENCY single-row commits 10 ms apart. */
async function latency(listen: boolean, pollMs: number, round: number): Promise<number[]> {
  const registry = new Registry();
  const source = changes(pool, { schema: S, name: `latency-${listen}-${round}`, from: 'now', listen, pollMs, retainMs: 0, tables: [`${S}_app.captured`] });
  const committed = new Map<string, number>();
  const seen = new Map<string, number>();
  const stop = new AbortController();
  registry.snap(source, {})((change: Change) => {
    seen.set(change.key!, performance.now());
    if (seen.size === LATENCY) stop.abort();
  });
  const running = registry.stream({ signal: stop.signal, handleSignals: false, progress: false });
  // Let the source take its start position and open its LISTEN connection.
  const deadline = Date.now() + 30_000;
  while (source.stats().polls === 0 || (listen && source.stats().listens === 0)) {
    if (Date.now() > deadline) throw new Error('the source did not start');
    await new Promise((r) => setTimeout(r, 10));
  }
  for (let i = 0; i < LATENCY; i++) {
    const id = nextId++;
    await pool.query(`INSERT INTO ${S}_app.captured (id, item, qty) VALUES ($1, 'tea', 1)`, [id]);
    committed.set(String(id), performance.now());
    await new Promise((r) => setTimeout(r, 10));
  }
  await running;
  await source.close();
  return [...committed].map(([key, t]) => Math.max(0, seen.get(key)! - t));
}

const results = {
  snoopy: [] as number[], hand: [] as number[],
  singleWith: [] as number[], singleQuiet: [] as number[], singleWithout: [] as number[], bulkWith: [] as number[], bulkWithout: [] as number[],
  notify: [] as number[], poll: [] as number[],
};
for (let round = 0; round < ROUNDS; round++) {
  const capture: [number[], (r: number) => Promise<number>][] = [[results.snoopy, snoopyCapture], [results.hand, handCapture]];
  const inserts: [number[], () => Promise<number>][] = [
    [results.singleWith, () => singleInserts('captured')],
    [results.singleQuiet, () => singleInserts('quiet')],
    [results.singleWithout, () => singleInserts('plain')],
    [results.bulkWith, () => bulkInsert('captured')],
    [results.bulkWithout, () => bulkInsert('plain')],
  ];
  if (round % 2 === 1) {
    capture.reverse();
    inserts.reverse();
  }
  for (const [into, run] of capture) into.push(await run(round));
  for (const [into, run] of inserts) into.push(await run());
  process.stderr.write(`round ${round + 1}/${ROUNDS}: capture ${results.snoopy.at(-1)!.toFixed(0)} vs ${results.hand.at(-1)!.toFixed(0)} changes/s\n`);
}
for (let round = 0; round < 2; round++) {
  results.notify.push(...(await latency(true, 1000, round)));
  results.poll.push(...(await latency(false, 100, round)));
}

const paired = (xs: number[], ys: number[]): number => median(xs.map((x, i) => x / ys[i]!));
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const lines = [
  `node ${process.version}; PostgreSQL ${(await pool.query('SHOW server_version')).rows[0].server_version}; ${ROUNDS} interleaved rounds, medians; ratios are medians of per-round ratios`,
  '',
  '| case | result | ratio | target |',
  '| --- | --- | --- | --- |',
  `| changes() -> no-op snap and sink (${fmt(CHANGES)} changes, batch ${BATCH}) | ${fmt(median(results.snoopy))} changes/s | ${paired(results.snoopy, results.hand).toFixed(2)}x of hand-written | >= 0.9x |`,
  `| hand-written polling loop, same query, checkpoint per batch | ${fmt(median(results.hand))} changes/s | 1.00x | |`,
  `| single-row INSERTs with capture triggers | ${fmt(median(results.singleWith))} rows/s | ${paired(results.singleWith, results.singleWithout).toFixed(2)}x of without | |`,
  `| single-row INSERTs with the capture trigger, NOTIFY off | ${fmt(median(results.singleQuiet))} rows/s | ${paired(results.singleQuiet, results.singleWithout).toFixed(2)}x of without | |`,
  `| single-row INSERTs without triggers | ${fmt(median(results.singleWithout))} rows/s | 1.00x | |`,
  `| ${fmt(BULK)}-row INSERT ... SELECT with capture triggers | ${fmt(median(results.bulkWith))} rows/s | ${paired(results.bulkWith, results.bulkWithout).toFixed(2)}x of without | |`,
  `| ${fmt(BULK)}-row INSERT ... SELECT without triggers | ${fmt(median(results.bulkWithout))} rows/s | 1.00x | |`,
  `| commit -> handler, NOTIFY on (pollMs 1000), ${results.notify.length} commits | p50 ${pct(results.notify, 50).toFixed(1)} ms, p99 ${pct(results.notify, 99).toFixed(1)} ms | | |`,
  `| commit -> handler, polling every 100 ms, no NOTIFY | p50 ${pct(results.poll, 50).toFixed(1)} ms, p99 ${pct(results.poll, 99).toFixed(1)} ms | | |`,
];
console.log(lines.join('\n'));

await pool.query(`DROP SCHEMA IF EXISTS ${S}_app CASCADE; DROP SCHEMA IF EXISTS ${S} CASCADE`);
await pool.end();
await server?.stop();
