// bench/startup: what a snoopy Kafka worker pays for loading its modules before it can connect
// (issue 15), against a worker written on a Kafka client directly: the Confluent client (which
// @snoopy/kafka sits on), kafkajs and @platformatic/kafka.
// Run: pnpm bench:startup (or npx tsc -b packages/core packages/codecs packages/kafka bench &&
// node scripts/bundle.mjs core codecs kafka && node bench/dist/startup.js)
//
// Method: each case is a fresh `node` process that imports what such a worker imports and prints
// how long the imports took (`import`) and the time from the process's start to that point
// (`ready`, Node's own start-up included). BENCH_ROUNDS (default 9) rounds run every case once,
// in an order that rotates per round, so load from elsewhere on the machine hits all alike.
// Reported: the median per case, and the median of the per-round differences and ratios against
// the Confluent client. The snoopy case also makes a component logger as a Topic does, at
// SNOOPY_LOG_LEVEL=warn as bench/kafka runs its workers.
//
// Before/after in one run: BENCH_STARTUP_BEFORE=<dir> adds the snoopy case again, run from <dir>,
// a copy of bench/ (dist, package.json, node_modules) whose @snoopy/* links lead to an older build;
// BENCH_STARTUP_BEFORE_LABEL names that build in the table.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const benchDir = fileURLToPath(new URL('..', import.meta.url));

interface Case {
  readonly name: string;
  readonly label: string;
  /** Module code run after the clock starts. */
  readonly code: string;
  /** Where the process runs (which node_modules it resolves from). @default bench/ */
  readonly cwd?: string;
  /** Node flags: `--conditions=snoopy-bundle` loads the packages' bundles, as npm users get them. */
  readonly args?: readonly string[];
}

const bundled = ['--conditions=snoopy-bundle'] as const;

const snoopyCode =
  "await import('@snoopy/kafka'); const core = await import('@snoopy/core'); core.rootLogger().child({ component: 'consumer', topic: 't' }).debug('x');";
const before = process.env.BENCH_STARTUP_BEFORE;
const beforeLabel = process.env.BENCH_STARTUP_BEFORE_LABEL ?? 'an older build';

const cases: readonly Case[] = [
  { name: 'node', label: 'node alone (no import)', code: '' },
  { name: 'confluent', label: '@confluentinc/kafka-javascript', code: "await import('@confluentinc/kafka-javascript');" },
  { name: 'kafkajs', label: 'kafkajs', code: "await import('kafkajs');" },
  { name: 'platformatic', label: '@platformatic/kafka', code: "await import('@platformatic/kafka');" },
  { name: 'snoopy', label: '@snoopy/kafka + @snoopy/core, a component logger (bundles, as published)', code: snoopyCode, args: bundled },
  { name: 'modules', label: 'the same from one file per module (the monorepo\'s `dist/`)', code: snoopyCode },
  ...(before ? [{ name: 'before', label: `the same, ${beforeLabel} (BENCH_STARTUP_BEFORE)`, code: snoopyCode, cwd: before }] : []),
  { name: 'core', label: '(part) @snoopy/core (bundle)', code: "await import('@snoopy/core');", args: bundled },
  { name: 'codecs', label: '(part) @snoopy/codecs (bundle)', code: "await import('@snoopy/codecs');", args: bundled },
];

function run(c: Case): { importMs: number; readyMs: number } {
  const code = `const t = performance.now(); ${c.code} const done = performance.now(); console.log(JSON.stringify({ importMs: done - t, readyMs: done }));`;
  const out = execFileSync(process.execPath, [...(c.args ?? []), '--input-type=module', '-e', code], {
    cwd: c.cwd ?? benchDir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, SNOOPY_LOG_LEVEL: process.env.SNOOPY_LOG_LEVEL ?? 'warn' },
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { importMs: number; readyMs: number };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const results = new Map(cases.map((c) => [c.name, [] as Array<{ importMs: number; readyMs: number }>]));
const load = loadavg()[0]!;
for (let round = 0; round < ROUNDS; round++) {
  const order = cases.map((_, i) => cases[(i + round) % cases.length]!);
  for (const c of order) results.get(c.name)!.push(run(c));
}

const base = results.get('confluent')!;
const ms = (x: number): string => `${Math.round(x)}`;
const lines = [
  `node ${process.version}, ${cpus().length} CPUs, load ${load.toFixed(1)} at start; ${ROUNDS} rounds, one fresh process per case per round; medians`,
  '',
  '| worker imports | import ms | ready ms (from process start) | import - Confluent (ms) | import / Confluent |',
  '|---|---:|---:|---:|---:|',
];
for (const c of cases) {
  const r = results.get(c.name)!;
  const imports = r.map((x) => x.importMs);
  const diff = c.name === 'confluent' || c.name === 'node' ? '' : ms(median(imports.map((x, i) => x - base[i]!.importMs)));
  const ratio = c.name === 'confluent' || c.name === 'node' ? '' : `${median(imports.map((x, i) => x / base[i]!.importMs)).toFixed(2)}x`;
  lines.push(`| ${c.label} | ${ms(median(imports))} | ${ms(median(r.map((x) => x.readyMs)))} | ${diff} | ${ratio} |`);
}
console.log(lines.join('\n'));
mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
writeFileSync(
  fileURLToPath(new URL('../results/startup.md', import.meta.url)),
  `# bench/startup\n\nCommand: \`npx tsc -b packages/core packages/codecs packages/kafka bench && node scripts/bundle.mjs core codecs kafka && ${before ? `BENCH_STARTUP_BEFORE=${before} ` : ''}node bench/dist/startup.js\`\n\n${lines.join('\n')}\n`,
);
