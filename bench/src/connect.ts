// bench/connect: records/s through a bufferedWriter into a no-op `send`, against a hand-written
// batching loop with the same flush rules (500 records or 256,000 bytes of NDJSON); and items/s
// through a DataSource against a hand-written `while (read)` loop over the same `read`.
// Run: pnpm bench:connect   (or: npx tsc -b bench && node bench/dist/connect.js)
import os from 'node:os';
import { pino } from 'pino';
import { Registry } from '@snoopy/core';
import { bufferedWriter, DataSource, type Batch } from '@snoopy/connect';

const N = Number(process.env.BENCH_N ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const quiet = pino({ level: 'silent' });
const MAX_RECORDS = 500;
const MAX_BYTES = 256_000;
const PAGE = 100;

interface Rec {
  readonly id: number;
  readonly name: string;
  readonly score: number;
}
const records: Rec[] = Array.from({ length: N }, (_, i) => ({ id: i, name: `user-${i}`, score: i % 97 }));

let sentRecords = 0;
let sentBytes = 0;
/** The no-op send: counts, so a case that skipped work fails the check. */
async function send(batch: Batch<Rec> | { records: readonly Rec[]; bytes: number }): Promise<void> {
  sentRecords += batch.records.length;
  sentBytes += batch.bytes;
}

/** What a user writes by hand: encode, count bytes, cut before crossing, await each send. */
async function handBatching(source: Iterable<Rec> | AsyncIterable<Rec>): Promise<void> {
  let batch: Rec[] = [];
  let bytes = -1;
  for await (const r of source) {
    const size = Buffer.byteLength(JSON.stringify(r));
    if (batch.length > 0 && bytes + 1 + size > MAX_BYTES) {
      await send({ records: batch, bytes });
      batch = [];
      bytes = -1;
    }
    batch.push(r);
    bytes += 1 + size;
    if (batch.length >= MAX_RECORDS) {
      await send({ records: batch, bytes });
      batch = [];
      bytes = -1;
    }
  }
  if (batch.length > 0) await send({ records: batch, bytes });
}

async function* generate(): AsyncGenerator<Rec> {
  for (let i = 0; i < N; i++) yield records[i]!;
}

async function writerInSnap(source: Iterable<Rec> | AsyncIterable<Rec>): Promise<void> {
  const w = bufferedWriter<Rec>(send, { maxRecords: MAX_RECORDS, maxBytes: MAX_BYTES, logger: quiet });
  const registry = new Registry();
  registry.snap(source, { sink: w })((r: Rec) => r);
  await registry.stream({ handleSignals: false, logger: quiet, progress: false });
}

async function writerAlone(): Promise<void> {
  const w = bufferedWriter<Rec>(send, { maxRecords: MAX_RECORDS, maxBytes: MAX_BYTES, maxBuffered: 10_000, logger: quiet });
  let pending: Promise<void> | undefined;
  for (const r of records) pending = w.write(r);
  await pending;
  await w.close();
}

// --- sources: the same paged read, by hand and as a DataSource ---
let consumed = 0;
const consume = (r: Rec): void => {
  consumed += r.score;
};
const expectedScore = records.reduce((a, r) => a + r.score, 0);

function readPage(position: number, n: number): Rec[] | null {
  if (position >= N) return null;
  return records.slice(position, Math.min(N, position + n));
}

async function handReadLoop(): Promise<void> {
  let position = 0;
  const read = async (n: number): Promise<Rec[] | null> => {
    const page = readPage(position, n);
    if (page) position += page.length;
    return page;
  };
  let items: Rec[] | null;
  while ((items = await read(PAGE)) !== null) for (const r of items) consume(r);
}

class Pages extends DataSource<Rec> {
  private position = 0;
  protected override async read(n: number): Promise<Rec[] | null> {
    const page = readPage(this.position, n);
    if (page) this.position += page.length;
    return page;
  }
}

async function sourceForAwait(): Promise<void> {
  for await (const r of new Pages({}, { batchSize: PAGE, logger: quiet })) consume(r);
}

async function sourceInSnap(): Promise<void> {
  const registry = new Registry();
  registry.snap(new Pages({}, { batchSize: PAGE, logger: quiet }), { sink: consume })((r: Rec) => r);
  await registry.stream({ handleSignals: false, logger: quiet, progress: false });
}

async function pagesForAwait(): Promise<void> {
  for await (const page of new Pages({}, { batchSize: PAGE, logger: quiet }).pages()) for (const r of page) consume(r);
}

async function pagesInSnap(): Promise<void> {
  const registry = new Registry();
  registry.snap(new Pages({}, { batchSize: PAGE, logger: quiet }).pages(), { sink: () => {} })((page: readonly Rec[]) => {
    for (const r of page) consume(r);
  });
  await registry.stream({ handleSignals: false, logger: quiet, progress: false });
}

type Case = { name: string; kind: 'write' | 'read'; run: () => Promise<void> };
const writeCases: Case[] = [
  { name: 'write, array: hand-written batching loop', kind: 'write', run: () => handBatching(records) },
  { name: 'write, array: bufferedWriter in a snap', kind: 'write', run: () => writerInSnap(records) },
  { name: 'write, async gen: hand-written batching loop', kind: 'write', run: () => handBatching(generate()) },
  { name: 'write, async gen: bufferedWriter in a snap', kind: 'write', run: () => writerInSnap(generate()) },
  { name: 'write: bufferedWriter.write() per record', kind: 'write', run: writerAlone },
];
const readCases: Case[] = [
  { name: 'read: hand-written while (read) loop', kind: 'read', run: handReadLoop },
  { name: 'read: DataSource, for await', kind: 'read', run: sourceForAwait },
  { name: 'read: DataSource in a snap + stream', kind: 'read', run: sourceInSnap },
  { name: 'read: DataSource.pages(), for await', kind: 'read', run: pagesForAwait },
  { name: 'read: DataSource.pages() in a snap', kind: 'read', run: pagesInSnap },
];

let expectedBytes: number | undefined;
async function measure(c: Case): Promise<number> {
  sentRecords = 0;
  sentBytes = 0;
  consumed = 0;
  const start = process.hrtime.bigint();
  await c.run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (c.kind === 'write') {
    if (sentRecords !== N) throw new Error(`${c.name}: sent ${sentRecords} of ${N}`);
    expectedBytes ??= sentBytes;
    if (sentBytes !== expectedBytes) throw new Error(`${c.name}: sent ${sentBytes} bytes, expected ${expectedBytes}`);
  } else if (consumed !== expectedScore) throw new Error(`${c.name}: consumed ${consumed}, expected ${expectedScore}`);
  return N / seconds;
}

const results = new Map<string, number[]>();
for (const phase of [writeCases, readCases]) {
  for (const c of phase) await measure(c); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const order = phase.map((_, i) => phase[(i + round) % phase.length]!);
    for (const c of order) results.set(c.name, [...(results.get(c.name) ?? []), await measure(c)]);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (name: string): number => median(results.get(name)!);

console.log(`bench/connect: N=${N}, ${ROUNDS} rounds (rates: median round; ratios: median of per-round ratios), node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}`);
for (const c of [...writeCases, ...readCases]) console.log(`${c.name.padEnd(52)} ${(rate(c.name) / 1e6).toFixed(2).padStart(6)} M items/s`);
// A ratio per round, of two cases measured in the same round, then the median of those: on a
// shared, noisy machine this follows load changes better than a ratio of medians.
const ratio = (a: string, b: string): number => {
  const xs = results.get(a)!;
  const ys = results.get(b)!;
  return median(xs.map((x, i) => x / ys[i]!));
};
const ratios = [
  ['write, array: bufferedWriter / hand loop', ratio('write, array: bufferedWriter in a snap', 'write, array: hand-written batching loop'), 0.9],
  ['write, async gen: bufferedWriter / hand loop', ratio('write, async gen: bufferedWriter in a snap', 'write, async gen: hand-written batching loop'), 0.9],
  ['write(): bufferedWriter.write / hand loop (array)', ratio('write: bufferedWriter.write() per record', 'write, array: hand-written batching loop'), undefined],
  ['read: DataSource.pages() for await / while (read)', ratio('read: DataSource.pages(), for await', 'read: hand-written while (read) loop'), 0.9],
  ['read: DataSource.pages() in a snap / while (read)', ratio('read: DataSource.pages() in a snap', 'read: hand-written while (read) loop'), 0.9],
  ['read: DataSource per item, for await / while (read)', ratio('read: DataSource, for await', 'read: hand-written while (read) loop'), 0.9],
  ['read: DataSource per item in a snap / while (read)', ratio('read: DataSource in a snap + stream', 'read: hand-written while (read) loop'), undefined],
] as const;
for (const [name, r, target] of ratios) {
  console.log(`${name.padEnd(52)} ${r.toFixed(2).padStart(6)}x${target === undefined ? '' : `  (target >= ${target}x: ${r >= target ? 'met' : 'MISSED'})`}`);
}
