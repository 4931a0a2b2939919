// bench/feed: @snoopy/feed on each store against the same store's raw client, in one run.
//   inserts: the feed as a sink (core's `[deliver]` path, coalesced into batches of 500 events)
//            against a hand-written batch of the same writes with the raw client:
//            level    -> Cache.batch() of the same keys (the client levelStore writes through);
//            redis    -> ioredis INCRBY for the sequence, then MULTI of SET + 8 ZADD per event;
//            postgres -> pg: BEGIN, INSERT events RETURNING seq, INSERT index rows, COMMIT.
//   items(): p50/p99 of single-key, AND (2 keys) and 8-way OR queries, page of 20, on the feed
//            after the insert rounds (N events), queries interleaved.
// Every event has 3 indexed keys (user of 1000, kind of 10, repo of 100), so it is written under
// 8 indexes (7 combinations and the all-events index).
// Run: npx tsc -b bench && node bench/dist/feed.js
// Env: BENCH_FEED_STORES (level,redis,postgres), BENCH_FEED_N_LEVEL (100000), BENCH_FEED_N_REDIS
//      (100000), BENCH_FEED_N_POSTGRES (50000): events per side and store; BENCH_FEED_ROUNDS (5);
//      BENCH_FEED_QUERIES (300 per query kind). Redis and PostgreSQL: SNOOPY_REDIS_URL /
//      SNOOPY_PG_URL, else the project's launchers (test/redis, test/postgres) start private ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { deliver, setRootLogger, type Completion } from '@snoopy/core';
import { Cache } from '@snoopy/cache';
import { feed, levelStore, postgresStore, redisStore, type Feed, type Filters } from '@snoopy/feed';

setRootLogger(pino({ level: 'silent' }));

const STORES = (process.env.BENCH_FEED_STORES ?? 'level,redis,postgres').split(',');
const ROUNDS = Number(process.env.BENCH_FEED_ROUNDS ?? 5);
const QUERIES = Number(process.env.BENCH_FEED_QUERIES ?? 300);
const BATCH = 500;
const eventsFor = (store: string): number =>
  Number(process.env[`BENCH_FEED_N_${store.toUpperCase()}`] ?? (store === 'postgres' ? 50_000 : 100_000));

interface Ev {
  n: number;
  user: number;
  kind: string;
  repo: string;
  text: string;
}
const KINDS = ['play', 'score', 'friend', 'follow', 'star', 'fork', 'push', 'issue', 'comment', 'release'];
const BASE_AT = 1_700_000_000_000;
const event = (i: number): Ev => ({
  n: i,
  user: 1 + ((i * 7919) % 1000),
  kind: KINDS[Math.floor(i / 7) % 10]!,
  repo: `r${(i * 31) % 100}`,
  text: 'user did a thing to a repository',
});
const atOf = (i: number): number => BASE_AT + i;

/** The same index names the feed writes (see the package README), for the raw writers. */
function indexesOf(e: Ev): string[] {
  const parts: [string, string][] = [
    ['user', String(e.user)],
    ['kind', e.kind],
    ['repo', e.repo],
  ];
  const out = ['[]'];
  for (let mask = 1; mask < 8; mask++) {
    const combo: string[] = [];
    parts.forEach(([k, v], i) => {
      if (mask & (1 << i)) combo.push(k, v);
    });
    out.push(JSON.stringify(combo));
  }
  return out;
}
const hex14 = (n: number): string => n.toString(16).padStart(14, '0');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function time(run: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Core's path: `[deliver]` every event with one completion, wait for every `done()`. */
async function sinkInserts(f: Feed<Ev>, from: number, to: number): Promise<void> {
  let left = to - from;
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const all = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const completion: Completion = {
    done: () => {
      if (--left === 0) resolve();
    },
    fail: reject,
  };
  for (let i = from; i < to; i++) {
    const wait = f[deliver](event(i), completion);
    if (wait !== undefined) await wait;
  }
  await all;
}

interface Side {
  readonly feed: Feed<Ev>;
  raw(from: number, to: number): Promise<void>;
  rawLabel: string;
  /** The newest 20 events of one index, by hand with the raw client, on the raw side's data. */
  rawQuery(index: string): Promise<number>;
  rawQueryLabel: string;
  close(): Promise<void>;
}

async function startService(kind: 'redis' | 'postgres'): Promise<{ url: string; stop(): Promise<void> }> {
  const env = kind === 'redis' ? process.env.SNOOPY_REDIS_URL : process.env.SNOOPY_PG_URL;
  if (env) return { url: env, stop: async () => {} };
  const file = kind === 'redis' ? '../../test/redis/redis.mjs' : '../../test/postgres/postgres.mjs';
  const launcher = (await import(new URL(file, import.meta.url).href)) as Record<string, () => Promise<{ url: string; stop(): Promise<void> }>>;
  return kind === 'redis' ? launcher.startRedis!() : launcher.startPostgres!();
}

async function levelSide(): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-bench-feed-'));
  const feedCache = await Cache.open(join(dir, 'feed'), { sweepInterval: 0 });
  const rawCache = await Cache.open(join(dir, 'raw'), { sweepInterval: 0 });
  const f = feed<Ev>({ keys: ['user', 'kind', 'repo'], store: levelStore(feedCache), batchSize: BATCH });
  await f.init();
  let seq = 0;
  return {
    feed: f,
    rawLabel: 'Cache.batch() of the same keys',
    rawQueryLabel: 'Cache.keys({ prefix, reverse, limit: 20 }) + getMany',
    async rawQuery(index) {
      const seqs: string[] = [];
      for await (const key of rawCache.keys({ prefix: 'i' + index + '\x00', reverse: true, limit: 20 })) seqs.push('e' + key.slice(-14));
      return rawCache.getMany(seqs).length;
    },
    async raw(from, to) {
      for (let start = from; start < to; start += BATCH) {
        const ops: { type: 'set'; key: string; value: unknown }[] = [];
        for (let i = start; i < Math.min(start + BATCH, to); i++) {
          const e = event(i);
          const s = ++seq;
          const ix = indexesOf(e);
          ops.push({ type: 'set', key: 'e' + hex14(s), value: { at: atOf(i), event: e, ix } });
          for (const name of ix) ops.push({ type: 'set', key: 'i' + name + '\x00' + hex14(atOf(i)) + hex14(s), value: 0 });
        }
        await rawCache.batch(ops);
      }
    },
    async close() {
      await f.close();
      await feedCache.close();
      await rawCache.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function redisSide(): Promise<Side> {
  const service = await startService('redis');
  const client = new Redis(service.url);
  const prefix = `bench-feed-${randomBytes(4).toString('hex')}`;
  const f = feed<Ev>({ keys: ['user', 'kind', 'repo'], store: redisStore(client, { prefix }), batchSize: BATCH });
  await f.init();
  const rawPrefix = `${prefix}-raw`;
  return {
    feed: f,
    rawLabel: 'ioredis INCRBY + MULTI(SET, 8 ZADD per event)',
    rawQueryLabel: 'ioredis ZREVRANGE 0 19 + MGET',
    async rawQuery(index) {
      const members = await client.zrevrange(`${rawPrefix}:i:${index}`, 0, 19);
      if (members.length === 0) return 0;
      const found = await client.mget(members.map((m) => `${rawPrefix}:e:${parseInt(m.slice(14), 16)}`));
      return found.map((t) => JSON.parse(t!) as unknown).length;
    },
    async raw(from, to) {
      for (let start = from; start < to; start += BATCH) {
        const end = Math.min(start + BATCH, to);
        const last = await client.incrby(`${rawPrefix}:seq`, end - start);
        const multi = client.multi();
        for (let i = start; i < end; i++) {
          const e = event(i);
          const s = last - (end - start) + (i - start) + 1;
          const ix = indexesOf(e);
          multi.set(`${rawPrefix}:e:${s}`, JSON.stringify({ at: atOf(i), event: e, ix }));
          const member = hex14(atOf(i)) + hex14(s);
          for (const name of ix) multi.zadd(`${rawPrefix}:i:${name}`, 0, member);
        }
        await multi.exec();
      }
    },
    async close() {
      await f.close();
      for (const p of [prefix, rawPrefix]) {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${p}:*`, 'COUNT', 1000);
          if (keys.length > 0) await client.unlink(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
      await client.quit();
      await service.stop();
    },
  };
}

async function postgresSide(): Promise<Side> {
  const service = await startService('postgres');
  const pool = new pg.Pool({ connectionString: service.url, max: 4 });
  const schema = `bench_feed_${randomBytes(4).toString('hex')}`;
  const f = feed<Ev>({ keys: ['user', 'kind', 'repo'], store: postgresStore(pool, { schema }), batchSize: BATCH });
  await f.init();
  await pool.query(`create table "${schema}".raw (seq bigserial primary key, at bigint not null, event json not null, ix json not null);
    create index on "${schema}".raw (at, seq);
    create table "${schema}".raw_index (ix text not null, at bigint not null, seq bigint not null, primary key (ix, at, seq))`);
  return {
    feed: f,
    rawLabel: 'pg: BEGIN, INSERT events RETURNING seq, INSERT index rows (unnest), COMMIT',
    rawQueryLabel: 'pg: one SELECT joining the index rows to the events, LIMIT 20',
    async rawQuery(index) {
      const { rows } = await pool.query(
        `select e.event from "${schema}".raw_index i join "${schema}".raw e on e.seq = i.seq where i.ix = $1 order by i.at desc, i.seq desc limit 20`,
        [index],
      );
      return rows.length;
    },
    async raw(from, to) {
      const conn = await pool.connect();
      try {
        for (let start = from; start < to; start += BATCH) {
          const end = Math.min(start + BATCH, to);
          const ats: number[] = [];
          const events: string[] = [];
          const ixs: string[][] = [];
          for (let i = start; i < end; i++) {
            const e = event(i);
            const ix = indexesOf(e);
            ats.push(atOf(i));
            events.push(JSON.stringify(e));
            ixs.push(ix);
          }
          await conn.query('begin');
          const { rows } = await conn.query<{ seq: string }>(
            `insert into "${schema}".raw (at, event, ix) select * from unnest($1::bigint[], $2::json[], $3::json[]) returning seq`,
            [ats, events, ixs.map((x) => JSON.stringify(x))],
          );
          const names: string[] = [];
          const ixAts: number[] = [];
          const seqs: string[] = [];
          rows.forEach((r, k) => {
            for (const name of ixs[k]!) {
              names.push(name);
              ixAts.push(ats[k]!);
              seqs.push(r.seq);
            }
          });
          await conn.query(`insert into "${schema}".raw_index (ix, at, seq) select * from unnest($1::text[], $2::bigint[], $3::bigint[])`, [names, ixAts, seqs]);
          await conn.query('commit');
        }
      } finally {
        conn.release();
      }
    },
    async close() {
      await f.close();
      await pool.query(`drop schema "${schema}" cascade`);
      await pool.end();
      await service.stop();
    },
  };
}

const sides: Record<string, () => Promise<Side>> = { level: levelSide, redis: redisSide, postgres: postgresSide };

console.log(`@snoopy/feed vs each store's raw client; 3 indexed keys (8 index entries per event); batches of ${BATCH}; ${ROUNDS} interleaved rounds`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
const insertRows: string[] = [];
const itemRows: string[] = [];
for (const name of STORES) {
  const N = eventsFor(name);
  const side = await sides[name]!();
  const perRound = Math.floor(N / ROUNDS);
  const feedRates: number[] = [];
  const rawRates: number[] = [];
  const started = Date.now();
  for (let round = 0; round < ROUNDS; round++) {
    const from = round * perRound;
    const to = from + perRound;
    const runFeed = async (): Promise<void> => void feedRates.push(perRound / (await time(() => sinkInserts(side.feed, from, to))));
    const runRaw = async (): Promise<void> => void rawRates.push(perRound / (await time(() => side.raw(from, to))));
    if (round % 2 === 0) {
      await runFeed();
      await runRaw();
    } else {
      await runRaw();
      await runFeed();
    }
  }
  const ratios = feedRates.map((r, i) => r / rawRates[i]!);
  const total = perRound * ROUNDS;
  insertRows.push(
    `| ${name} | ${fmt(total)} | ${fmt(median(feedRates))} | ${fmt(median(rawRates))} (${side.rawLabel}) | ${median(ratios).toFixed(2)}x | ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)} |`,
  );

  // items(): interleave the three query kinds; random values from a fixed-seed generator.
  let state = 42;
  const rand = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  const kinds: [string, () => Filters][] = [
    ['single key (user)', () => ({ user: 1 + rand(1000) })],
    ['AND (user, kind)', () => ({ user: 1 + rand(1000), kind: KINDS[rand(10)]! })],
    ['8-way OR (user in 8)', () => ({ user: Array.from({ length: 8 }, () => 1 + rand(1000)) })],
  ];
  // Plus, for reference, the same single-key page by hand with the raw client (on the raw side's
  // copy of the same events): what the machine's noise does to a p99 without the feed.
  const queries: [string, () => Promise<number>][] = kinds.map(([label, make]) => [label, async () => (await side.feed.items(make(), { end: 20 })).length]);
  queries.push([`(reference) raw single key: ${side.rawQueryLabel}`, () => side.rawQuery(JSON.stringify(['user', String(1 + rand(1000))]))]);
  const latencies = queries.map(() => [] as number[]);
  const sizes = queries.map(() => [] as number[]);
  for (let q = 0; q < 20; q++) for (const [, run] of queries) await run(); // warm up
  for (let q = 0; q < QUERIES; q++) {
    for (let k = 0; k < queries.length; k++) {
      const start = process.hrtime.bigint();
      const size = await queries[k]![1]();
      latencies[k]!.push(Number(process.hrtime.bigint() - start) / 1e6);
      sizes[k]!.push(size);
    }
  }
  queries.forEach(([label], k) => {
    itemRows.push(
      `| ${name} | ${fmt(total)} | ${label} | ${median(sizes[k]!)} | ${percentile(latencies[k]!, 50).toFixed(2)} | ${percentile(latencies[k]!, 99).toFixed(2)} |`,
    );
  });
  await side.close();
  console.log(`${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

console.log('\nInserts (events/s; ratio = median of per-round feed/raw):');
console.log('| store | events per side | feed sink events/s | raw events/s (what) | ratio | per-round range |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of insertRows) console.log(r);
console.log(`\nitems(), page of 20, ${QUERIES} queries per kind (ms):`);
console.log('| store | events | query | median page size | p50 ms | p99 ms |');
console.log('|---|---:|---|---:|---:|---:|');
for (const r of itemRows) console.log(r);
