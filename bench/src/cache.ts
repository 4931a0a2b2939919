// bench/cache: @snoopy/cache against raw classic-level, in one run.
//   writes: the cache's coalesced sink path (`cache(key, value)` and core's `[deliver]` path)
//           against raw `db.batch(ops)` of the same batch size;
//   reads:  `cache.get(key)` against raw `db.getSync(key)` (valueEncoding 'json', what a user of
//           classic-level would pick for JSON values).
// Run: npx tsc -b bench && node bench/dist/cache.js
// Env: BENCH_WRITES (default 100000), BENCH_BATCH (1000), BENCH_KEYS (20000), BENCH_GETS (300000),
//      BENCH_ROUNDS (15). Rounds alternate which side goes first; each case is reported as its
//      median round and as the median of its per-round ratios to raw (paired, so that load
//      changes on a shared machine cancel out).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { deliver, setRootLogger, type Completion } from '@snoopy/core';
import { Cache } from '@snoopy/cache';
import { JsonCodec, type Codec } from '@snoopy/codecs';
import { pino } from 'pino';

const WRITES = Number(process.env.BENCH_WRITES ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const KEYS = Number(process.env.BENCH_KEYS ?? 20_000);
const GETS = Number(process.env.BENCH_GETS ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

setRootLogger(pino({ level: 'silent' }));

interface Value {
  id: number;
  name: string;
  score: number;
  tags: string[];
}
const value = (i: number): Value => ({ id: i, name: `user-${i}`, score: i * 1.5, tags: ['a', 'b'] });
const keys = Array.from({ length: KEYS }, (_, i) => `key-${String(i).padStart(8, '0')}`);

const dir = mkdtempSync(join(tmpdir(), 'snoopy-bench-cache-'));
const raw = new ClassicLevel<string, Value>(join(dir, 'raw'), { valueEncoding: 'json' });
await raw.open();
// One directory per writer, so that each LevelDB gets the same write volume (and compactions).
const cache = await Cache.open<Value>(join(dir, 'snoopy-sink'), { batchSize: BATCH, sweepInterval: 0 });
const deliverCache = await Cache.open<Value>(join(dir, 'snoopy-deliver'), { batchSize: BATCH, sweepInterval: 0 });
// For reference only: a codec without the text pair takes the generic bytes path
// (codec.encode -> Buffer -> stored text, and back), which JsonCodec's encodeText/decodeText skip.
const json = new JsonCodec<Value>();
const opaqueJson: Codec<Value> = { name: 'json-bytes', encode: (v) => json.encode(v), decode: (b) => json.decode(b) };
const bytesCache = await Cache.open<Value>(join(dir, 'snoopy-bytes'), { batchSize: BATCH, sweepInterval: 0, codec: opaqueJson });

/** Raw: build `BATCH` put operations, `await db.batch(ops)`, repeat. */
async function rawWrites(offset: number): Promise<void> {
  for (let start = 0; start < WRITES; start += BATCH) {
    const ops: { type: 'put'; key: string; value: Value }[] = [];
    const end = Math.min(start + BATCH, WRITES);
    for (let i = start; i < end; i++) ops.push({ type: 'put', key: keys[(i + offset) % KEYS]!, value: value(i) });
    await raw.batch(ops);
  }
}

/** Snoopy sink call: `cache(key, value)` per write, then wait for the chunk's (shared) promise. */
async function sinkWrites(offset: number): Promise<void> {
  for (let start = 0; start < WRITES; start += BATCH) {
    const end = Math.min(start + BATCH, WRITES);
    let last: Promise<void> | undefined;
    for (let i = start; i < end; i++) last = cache(keys[(i + offset) % KEYS]!, value(i));
    await last;
  }
}

/** Snoopy `[deliver]` (what core calls): one completion handle, counted down per write. */
async function deliverWrites(offset: number): Promise<void> {
  for (let start = 0; start < WRITES; start += BATCH) {
    const end = Math.min(start + BATCH, WRITES);
    await new Promise<void>((resolve, reject) => {
      let left = end - start;
      const completion: Completion = {
        done: () => {
          if (--left === 0) resolve();
        },
        fail: reject,
      };
      for (let i = start; i < end; i++) void deliverCache[deliver]([keys[(i + offset) % KEYS]!, value(i)], completion);
    });
  }
}

let sum = 0;
function rawGets(): void {
  for (let i = 0; i < GETS; i++) sum += raw.getSync(keys[i % KEYS]!)!.id;
}
function cacheGets(): void {
  for (let i = 0; i < GETS; i++) sum += cache.get(keys[i % KEYS]!)!.id;
}
function bytesCacheGets(): void {
  for (let i = 0; i < GETS; i++) sum += bytesCache.get(keys[i % KEYS]!)!.id;
}
async function bytesSinkWrites(offset: number): Promise<void> {
  for (let start = 0; start < WRITES; start += BATCH) {
    const end = Math.min(start + BATCH, WRITES);
    let last: Promise<void> | undefined;
    for (let i = start; i < end; i++) last = bytesCache(keys[(i + offset) % KEYS]!, value(i));
    await last;
  }
}

async function time(run: () => void | Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results = {
  rawWrites: [] as number[],
  sinkWrites: [] as number[],
  deliverWrites: [] as number[],
  bytesSinkWrites: [] as number[],
  rawGets: [] as number[],
  cacheGets: [] as number[],
  bytesCacheGets: [] as number[],
};

// Warm up both (and fill every key, so that reads hit).
await rawWrites(0);
await sinkWrites(0);
await deliverWrites(0);
await bytesSinkWrites(0);
rawGets();
cacheGets();
bytesCacheGets();

for (let round = 0; round < ROUNDS; round++) {
  // Alternate which side goes first, so that drift on a shared machine hits both alike.
  const writeCases: [number[], (offset: number) => Promise<void>][] = [
    [results.rawWrites, rawWrites],
    [results.sinkWrites, sinkWrites],
    [results.deliverWrites, deliverWrites],
    [results.bytesSinkWrites, bytesSinkWrites],
  ];
  const getCases: [number[], () => void][] = [
    [results.rawGets, rawGets],
    [results.cacheGets, cacheGets],
    [results.bytesCacheGets, bytesCacheGets],
  ];
  if (round % 2 === 1) {
    writeCases.reverse();
    getCases.reverse();
  }
  for (const [out, run] of writeCases) out.push(WRITES / (await time(() => run(round))));
  for (const [out, run] of getCases) out.push(GETS / (await time(run)));
}

await cache.close();
await deliverCache.close();
await bytesCache.close();
await raw.close();
rmSync(dir, { recursive: true, force: true });


/** Median over rounds of (case / raw) in the same round: pairs each run with its neighbour in time. */
const paired = (xs: number[], raws: number[]): string => median(xs.map((x, i) => x / raws[i]!)).toFixed(2) + 'x';
const range = (xs: number[], raws: number[]): string => {
  const ratios = xs.map((x, i) => x / raws[i]!).sort((a, b) => a - b);
  return `${ratios[0]!.toFixed(2)}–${ratios[ratios.length - 1]!.toFixed(2)}`;
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const row = (name: string, xs: number[], raws: number[]): void => {
  console.log(`| ${name} | ${fmt(median(xs))} | ${xs === raws ? '1.00x' : paired(xs, raws)} | ${xs === raws ? '' : range(xs, raws)} |`);
};
console.log(`@snoopy/cache vs classic-level: ${WRITES} writes in batches of ${BATCH}, ${GETS} gets over ${KEYS} keys, ${ROUNDS} rounds`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}; ops/s is the median round, ratio the median of per-round ratios`);
console.log('| case | ops/s | ratio to raw | per-round range |');
console.log('|---|---:|---:|---:|');
row(`raw classic-level batch (${BATCH} puts, json)`, results.rawWrites, results.rawWrites);
row('cache(key, value) sink, coalesced', results.sinkWrites, results.rawWrites);
row("cache[deliver] (core's path), coalesced", results.deliverWrites, results.rawWrites);
row('(reference) cache(key, value), codec on the generic bytes path', results.bytesSinkWrites, results.rawWrites);
row('raw classic-level getSync (json)', results.rawGets, results.rawGets);
row('cache.get', results.cacheGets, results.rawGets);
row('(reference) cache.get, codec on the generic bytes path', results.bytesCacheGets, results.rawGets);

if (sum === -1) console.log(sum);
