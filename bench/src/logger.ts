// bench/logger: the cost of snoopy's logger against the plain pino child a user would make instead.
// snoopy's `rootLogger().child(...)` is a follower: it forwards to whatever `setRootLogger` installed
// last (so components made before a logger was given use it) and merges re-bound keys. Measured:
// calls per second of an enabled `info` line (JSON built and handed to a destination that drops
// it) and of a disabled `debug` call, through a snoopy child and through `pino(...).child(...)`
// over the same destination.
// Run: pnpm bench:logger (or npx tsc -b bench && node bench/dist/logger.js)
//
// Method: one process; BENCH_ROUNDS (default 9) rounds, each running every case for BENCH_MS
// (default 250) ms of wall time in an order that alternates per round; reported: median calls/s
// per case and the median of the per-round ratios snoopy / pino.
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { rootLogger, setRootLogger } from '@snoopy/core';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const MS = Number(process.env.BENCH_MS ?? 250);

const sink = { write: (_line: string) => {} };
setRootLogger(pino({ level: 'info' }, sink));
const snoopyChild = rootLogger().child({ component: 'consumer', topic: 'orders' });
const pinoChild = pino({ level: 'info' }, sink).child({ component: 'consumer', topic: 'orders' });

function rate(logger: Logger, kind: 'info' | 'debug'): number {
  const end = performance.now() + MS;
  let calls = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      if (kind === 'info') logger.info({ partition: i & 7, offset: i }, 'message done');
      else logger.debug({ partition: i & 7, offset: i }, 'message done');
    }
    calls += 1000;
  }
  return (calls / MS) * 1000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const results: Record<string, { snoopy: number[]; pino: number[]; ratio: number[] }> = {
  info: { snoopy: [], pino: [], ratio: [] },
  debug: { snoopy: [], pino: [], ratio: [] },
};
// Warm-up of both paths.
rate(snoopyChild, 'info');
rate(pinoChild, 'info');
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of ['info', 'debug'] as const) {
    const first = round % 2 === 0;
    const a = first ? rate(snoopyChild, kind) : rate(pinoChild, kind);
    const b = first ? rate(pinoChild, kind) : rate(snoopyChild, kind);
    const s = first ? a : b;
    const p = first ? b : a;
    results[kind]!.snoopy.push(s);
    results[kind]!.pino.push(p);
    results[kind]!.ratio.push(s / p);
  }
}

const fmt = (n: number): string => `${(n / 1e6).toFixed(2)}M/s`;
const lines = [
  `# bench/logger`,
  '',
  `Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${ROUNDS} rounds of ${MS} ms per case, shared machine.`,
  '',
  '| case | snoopy child (median) | pino child (median) | ratio snoopy / pino (median of rounds) |',
  '|---|---|---|---|',
  ...(['info', 'debug'] as const).map((kind) => {
    const r = results[kind]!;
    const label = kind === 'info' ? '`info` line, enabled' : '`debug` call, disabled';
    return `| ${label} | ${fmt(median(r.snoopy))} | ${fmt(median(r.pino))} | ${median(r.ratio).toFixed(2)}x |`;
  }),
  '',
];
const text = lines.join('\n');
console.log(text);
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'logger.md');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, text);
