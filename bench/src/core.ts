// bench/core: snap pipelines against a hand-written loop doing the same work
// (source -> handler -> sink), over an array and over an async generator of N items.
// Run: pnpm bench:core   (or: npx tsc -b bench && node bench/dist/core.js)
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

type Case = { name: string; run: () => Promise<void> };

async function viaSnoopy(source: Iterable<number> | AsyncIterable<number>, fn: (x: number) => unknown = handler): Promise<void> {
  const registry = new Registry();
  registry.snap(source, { sink })(fn);
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

async function measure(c: Case): Promise<number> {
  total = 0;
  const start = process.hrtime.bigint();
  await c.run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (total !== N * N) throw new Error(`${c.name}: wrong result ${total}`); // sum of 2i+1 for i < N is N^2
  return N / seconds;
}

const results = new Map<string, number[]>();
for (const phase of [cases, asyncHandlerCases]) {
  for (const c of phase) await measure(c); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no case always runs right after the same other one.
    const order = phase.map((_, i) => phase[(i + round) % phase.length]!);
    for (const c of order) {
      const rate = await measure(c);
      results.set(c.name, [...(results.get(c.name) ?? []), rate]);
    }
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (name: string): number => median(results.get(name)!);

console.log(`bench/core: N=${N}, ${ROUNDS} rounds (median), node ${process.version}`);
for (const c of [...cases, ...asyncHandlerCases]) console.log(`${c.name.padEnd(42)} ${(rate(c.name) / 1e6).toFixed(2).padStart(7)} M items/s`);
const ratios = [
  ['array: snoopy / hand-written for await', rate('array: snoopy snap + stream') / rate('array: hand-written for await'), 2],
  ['async: snoopy / hand-written for await', rate('async generator: snoopy snap + stream') / rate('async generator: hand-written for await'), 0.9],
  ['async handler: snoopy / hand-written', rate('async handler: snoopy snap + stream') / rate('async handler: hand-written for await'), undefined],
  ['async: snoopy / ix map + forEach', rate('async generator: snoopy snap + stream') / rate('async generator: ix map + forEach'), undefined],
  ['array: snoopy / hand-written for..of', rate('array: snoopy snap + stream') / rate('array: hand-written for..of (sync)'), undefined],
] as const;
for (const [name, ratio, target] of ratios) {
  console.log(`${name.padEnd(42)} ${ratio.toFixed(2).padStart(7)}x${target === undefined ? '' : `  (target >= ${target}x: ${ratio >= target ? 'met' : 'MISSED'})`}`);
}
