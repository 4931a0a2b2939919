// bench/core: snap pipelines against a hand-written loop doing the same work
// (source -> handler -> sink), over an array and over an async generator of N items; then
// concurrency 4 and 16 against a hand-written ordered window of promises, batches of 100 against
// a hand-written batching loop, and the peak RSS of a snap over RSS_N (10M) messages.
// Run: pnpm bench:core   (or: npx tsc -b bench && node bench/dist/core.js)
import os from 'node:os';
import { pino } from 'pino';
import { AsyncIterableX } from 'ix/asynciterable';
import { map } from 'ix/asynciterable/operators';
import { Registry } from '@snoopy/core';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const quiet = pino({ level: 'silent' });

let total = 0;
const handler = (x: number): number => x * 2 + 1;
const asyncHandler = async (x: number): Promise<number> => x * 2 + 1;
const sink = (y: number): void => {
  total += y;
};

const array = Array.from({ length: N }, (_, i) => i);
async function* generate(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}
function* generateSync(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}
const BATCH = 100;
/** One output per batch: the sum of what `handler` gives each item, so the checked total is the same. */
const batchHandler = (xs: number[]): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]! * 2 + 1;
  return s;
};

/** What a user writes by hand for "k async handler calls in flight, outputs in input order". */
async function orderedWindow(k: number): Promise<void> {
  const window: Promise<number>[] = [];
  for await (const x of generate(N)) {
    window.push(asyncHandler(x));
    if (window.length >= k) sink(await window.shift()!);
  }
  while (window.length > 0) sink(await window.shift()!);
}

async function batchLoopAsync(): Promise<void> {
  let buffer: number[] = [];
  for await (const x of generate(N)) {
    buffer.push(x);
    if (buffer.length === BATCH) {
      sink(batchHandler(buffer));
      buffer = [];
    }
  }
  if (buffer.length > 0) sink(batchHandler(buffer));
}

async function batchLoopSync(): Promise<void> {
  let buffer: number[] = [];
  for (const x of generateSync(N)) {
    buffer.push(x);
    if (buffer.length === BATCH) {
      sink(batchHandler(buffer));
      buffer = [];
    }
  }
  if (buffer.length > 0) sink(batchHandler(buffer));
}

type Case = { name: string; run: () => Promise<void> };

async function viaSnoopy(
  source: Iterable<number> | AsyncIterable<number>,
  fn: (x: any) => any = handler,
  options: { concurrency?: number; batch?: { size: number; ms?: number } } = {},
): Promise<void> {
  const registry = new Registry();
  registry.snap(source, { sink, ...options })(fn);
  await registry.stream({ handleSignals: false, logger: quiet, progress: false });
}

const cases: Case[] = [
  {
    name: 'array: hand-written for await',
    run: async () => {
      for await (const x of array) sink(handler(x));
    },
  },
  {
    name: 'array: hand-written for..of (sync)',
    run: async () => {
      for (const x of array) sink(handler(x));
    },
  },
  { name: 'array: snoopy snap + stream', run: () => viaSnoopy(array) },
  {
    name: 'async generator: hand-written for await',
    run: async () => {
      for await (const x of generate(N)) sink(handler(x));
    },
  },
  { name: 'async generator: snoopy snap + stream', run: () => viaSnoopy(generate(N)) },
  {
    name: 'async generator: ix map + forEach',
    run: async () => {
      await AsyncIterableX.from(generate(N)).pipe(map(handler)).forEach(sink);
    },
  },
];

// Measured after the cases above, in a second phase, so that promise-returning handlers do not
// change how V8 compiles the shared runtime while the targets are measured.
const asyncHandlerCases: Case[] = [
  {
    name: 'async handler: hand-written for await',
    run: async () => {
      for await (const x of generate(N)) sink(await asyncHandler(x));
    },
  },
  { name: 'async handler: snoopy snap + stream', run: () => viaSnoopy(generate(N), asyncHandler) },
];

// The other paths: concurrency and batches, each against what a user would write by hand.
const otherPathCases: Case[] = [
  { name: 'concurrency 4: hand-written window', run: () => orderedWindow(4) },
  { name: 'concurrency 4: snoopy', run: () => viaSnoopy(generate(N), asyncHandler, { concurrency: 4 }) },
  { name: 'concurrency 16: hand-written window', run: () => orderedWindow(16) },
  { name: 'concurrency 16: snoopy', run: () => viaSnoopy(generate(N), asyncHandler, { concurrency: 16 }) },
  { name: 'batch 100, async gen: hand-written', run: batchLoopAsync },
  { name: 'batch 100, async gen: snoopy', run: () => viaSnoopy(generate(N), batchHandler, { batch: { size: BATCH } }) },
  { name: 'batch 100, sync gen: hand-written', run: batchLoopSync },
  { name: 'batch 100, sync gen: snoopy', run: () => viaSnoopy(generateSync(N), batchHandler, { batch: { size: BATCH } }) },
];

/**
 * One run of a case: items per second of wall-clock time and items per second of this process's
 * CPU time (user + system). On a shared, loaded machine the wall clock also counts the time the
 * process waited for a core; CPU time does not, so ratios of CPU rates are the steadier figure.
 */
async function measure(c: Case): Promise<{ wall: number; cpu: number }> {
  total = 0;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  await c.run();
  const cpu = process.cpuUsage(cpuStart);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (total !== N * N) throw new Error(`${c.name}: wrong result ${total}`); // sum of 2i+1 for i < N is N^2
  return { wall: N / seconds, cpu: N / ((cpu.user + cpu.system) / 1e6) };
}

const results = new Map<string, number[]>();
const cpuResults = new Map<string, number[]>();
for (const phase of [cases, asyncHandlerCases, otherPathCases]) {
  for (const c of phase) await measure(c); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no case always runs right after the same other one.
    const order = phase.map((_, i) => phase[(i + round) % phase.length]!);
    for (const c of order) {
      const { wall, cpu } = await measure(c);
      results.set(c.name, [...(results.get(c.name) ?? []), wall]);
      cpuResults.set(c.name, [...(cpuResults.get(c.name) ?? []), cpu]);
    }
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (name: string): number => median(results.get(name)!);
const cpuRate = (name: string): number => median(cpuResults.get(name)!);

console.log(`bench/core: N=${N}, ${ROUNDS} rounds (median), node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}`);
console.log(`${''.padEnd(42)} ${'wall'.padStart(7)}   ${'cpu'.padStart(7)}   (M items per second of wall clock / of CPU time)`);
for (const c of [...cases, ...asyncHandlerCases, ...otherPathCases]) {
  console.log(`${c.name.padEnd(42)} ${(rate(c.name) / 1e6).toFixed(2).padStart(7)}   ${(cpuRate(c.name) / 1e6).toFixed(2).padStart(7)}`);
}
// [label, snoopy case, reference case, target]: the target is judged on the CPU-time ratio.
const ratios: [string, string, string, number | undefined][] = [
  ['array: snoopy / hand-written for await', 'array: snoopy snap + stream', 'array: hand-written for await', 2],
  ['async: snoopy / hand-written for await', 'async generator: snoopy snap + stream', 'async generator: hand-written for await', 0.9],
  ['async handler: snoopy / hand-written', 'async handler: snoopy snap + stream', 'async handler: hand-written for await', undefined],
  ['async: snoopy / ix map + forEach', 'async generator: snoopy snap + stream', 'async generator: ix map + forEach', undefined],
  ['array: snoopy / hand-written for..of', 'array: snoopy snap + stream', 'array: hand-written for..of (sync)', undefined],
  ['concurrency 4: snoopy / hand-written', 'concurrency 4: snoopy', 'concurrency 4: hand-written window', 0.9],
  ['concurrency 16: snoopy / hand-written', 'concurrency 16: snoopy', 'concurrency 16: hand-written window', 0.9],
  ['batch 100, async gen: snoopy / hand-written', 'batch 100, async gen: snoopy', 'batch 100, async gen: hand-written', 0.9],
  ['batch 100, sync gen: snoopy / hand-written', 'batch 100, sync gen: snoopy', 'batch 100, sync gen: hand-written', 0.9],
];
console.log(`${'ratio'.padEnd(44)} ${'wall'.padStart(6)}  ${'cpu'.padStart(6)}`);
for (const [label, ours, theirs, target] of ratios) {
  const wall = rate(ours) / rate(theirs);
  const cpu = cpuRate(ours) / cpuRate(theirs);
  const verdict = target === undefined ? '' : `  (target >= ${target}x: ${cpu >= target ? 'met' : 'MISSED'})`;
  console.log(`${label.padEnd(44)} ${wall.toFixed(2).padStart(5)}x  ${cpu.toFixed(2).padStart(5)}x${verdict}`);
}

// Memory: peak RSS while one snap (concurrency 4, async handler) moves RSS_N messages. Flat
// memory means the peak does not grow with the number of messages.
const RSS_N = Number(process.env.BENCH_RSS_N ?? 10_000_000);
if (RSS_N > 0) {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  const registry = new Registry();
  let count = 0;
  registry.snap(generate(RSS_N), { concurrency: 4, sink: () => void count++ })(asyncHandler);
  const start = process.hrtime.bigint();
  await registry.stream({ handleSignals: false, logger: quiet, progress: false });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  if (count !== RSS_N) throw new Error(`rss run: ${count} of ${RSS_N} messages`);
  const mb = (b: number): string => (b / 2 ** 20).toFixed(0);
  console.log(`rss over ${RSS_N} messages (concurrency 4): ${mb(before)} MB before, ${mb(peak)} MB peak, ${(RSS_N / seconds / 1e6).toFixed(2)} M items/s`);
}
