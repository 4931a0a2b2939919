// bench/http: @snoopy/http against what a user would write by hand, in one run.
//   sink:   deliveries/s from a snap with the webhook sink (signed, concurrency C, keep-alive) to a
//           local receiver, against a hand-written `fetch` loop with the same concurrency that
//           signs the same way (undici's fetch keeps connections alive by default);
//   source: verified requests/s of `webhookSource` feeding a snap (each request answered 204 once
//           the snap finished with it), against a bare `node:http` handler that does the same HMAC
//           check and answers 204 at once.
// The server side of each case runs in a child process (this machine has 2 cores: client and
// server each get one). Rounds alternate which side goes first; each case is reported as its
// median round and as the median of its per-round ratios (paired, so load changes cancel out).
// Run: npx tsc -b packages/http bench && node bench/dist/http.js
// Env: BENCH_N (default 3000), BENCH_CONCURRENCY (16), BENCH_ROUNDS (3).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Registry, setRootLogger } from '@snoopy/core';
import { pino } from 'pino';
import { generateSecret, secretKey, sign, webhook, webhookSource, type WebhookEvent } from '../../packages/http/dist/index.js';

const N = Number(process.env.BENCH_N ?? 3000);
const C = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECRET = process.env.BENCH_SECRET ?? generateSecret();
const KEY = secretKey(SECRET);
const self = fileURLToPath(import.meta.url);
setRootLogger(pino({ level: 'silent' }));

const payload = (i: number) => ({ id: i, type: 'order.created', amount: i * 3, customer: `c-${i % 1000}`, tags: ['a', 'b'] });

// ---- child modes: the servers ----
async function serve(mode: string): Promise<void> {
  let port: number;
  if (mode === 'receiver') {
    const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      req.on('data', () => {});
      req.on('end', () => {
        res.writeHead(204);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  } else if (mode === 'bare') {
    const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const id = req.headers['webhook-id'] as string;
        const ts = req.headers['webhook-timestamp'] as string;
        const sig = Buffer.from((req.headers['webhook-signature'] as string).split(',')[1]!, 'base64');
        const expected = createHmac('sha256', KEY).update(`${id}.${ts}.`).update(body).digest();
        const now = Math.floor(Date.now() / 1000);
        if (sig.length !== expected.length || !timingSafeEqual(sig, expected) || Math.abs(now - Number(ts)) > 300) {
          res.writeHead(401);
          res.end();
          return;
        }
        JSON.parse(body.toString());
        res.writeHead(204);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  } else {
    const src = webhookSource<unknown>({ secrets: [SECRET], path: '/', maxPending: 10_000 });
    port = (await src.listen()).port;
    const registry = new Registry();
    registry.snap(src, { concurrency: 64 })((e: WebhookEvent) => e.value);
    void registry.stream({ handleSignals: false, progress: false, logger: pino({ level: 'silent' }) });
  }
  process.stdout.write(`${port}\n`);
}

function startServer(mode: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [self, 'serve', mode], { env: { ...process.env, BENCH_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), child }));
    child.once('exit', (code) => reject(new Error(`server ${mode} exited with ${code}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

// ---- the cases ----
async function snoopySink(port: number): Promise<number> {
  const registry = new Registry();
  const sink = webhook(`http://127.0.0.1:${port}/hook`, { secrets: [SECRET], allowPrivate: true, concurrency: C });
  const items = Array.from({ length: N }, (_, i) => payload(i));
  registry.snap(items, { sink })((v: ReturnType<typeof payload>) => v);
  const t0 = performance.now();
  await registry.stream({ handleSignals: false, progress: false, logger: pino({ level: 'silent' }) });
  const s = (performance.now() - t0) / 1000;
  if (sink.stats.delivered !== N) throw new Error(`snoopy sink delivered ${sink.stats.delivered} of ${N}`);
  return N / s;
}

async function fetchLoop(port: number): Promise<number> {
  const url = `http://127.0.0.1:${port}/hook`;
  let next = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      const i = next++;
      const body = JSON.stringify(payload(i));
      const id = `msg_${i}`;
      const ts = Math.floor(Date.now() / 1000);
      for (;;) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign([KEY], id, ts, body) },
          body,
        });
        await res.arrayBuffer();
        if (res.status >= 200 && res.status < 300) break;
      }
      ok++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, worker));
  const s = (performance.now() - t0) / 1000;
  if (ok !== N) throw new Error(`fetch loop delivered ${ok} of ${N}`);
  return N / s;
}

/** Reference: the same loop on node:http with a keep-alive Agent (what the sink is built on). */
async function httpLoop(port: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: C });
  let next = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      const i = next++;
      const body = JSON.stringify(payload(i));
      const id = `msg_${i}`;
      const ts = Math.floor(Date.now() / 1000);
      const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sign([KEY], id, ts, body) };
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/hook', method: 'POST', agent, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(body);
      });
      if (status >= 200 && status < 300) ok++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, worker));
  const s = (performance.now() - t0) / 1000;
  agent.destroy();
  if (ok !== N) throw new Error(`node:http loop delivered ${ok} of ${N}`);
  return N / s;
}

/** Sends N signed webhooks with C connections kept alive; resolves with verified requests/s. */
async function load(port: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: C });
  const ts = Math.floor(Date.now() / 1000);
  const run = randomBytes(4).toString('hex');
  const requests = Array.from({ length: N }, (_, i) => {
    const body = Buffer.from(JSON.stringify(payload(i)));
    const id = `msg_${run}_${i}`;
    return { body, headers: { 'content-type': 'application/json', 'content-length': body.length, 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sign([KEY], id, ts, body) } };
  });
  let next = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      const r = requests[next++]!;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent, headers: r.headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(r.body);
      });
      if (status === 204) ok++;
    }
  };
  const t0 = performance.now();
  const watch = process.env.BENCH_DEBUG ? setInterval(() => console.error(`    load: ${ok}/${next} answered`), 5000) : undefined;
  await Promise.all(Array.from({ length: C }, worker));
  clearInterval(watch);
  const s = (performance.now() - t0) / 1000;
  agent.destroy();
  if (ok !== N) throw new Error(`only ${ok} of ${N} requests were answered 204`);
  return N / s;
}

async function main(): Promise<void> {
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const r = { fetch: [] as number[], sink: [] as number[], httpLoop: [] as number[], bare: [] as number[], source: [] as number[] };
  const receiver = await startServer('receiver');
  // Warm-up (JIT, connections), not counted.
  await fetchLoop(receiver.port);
  await snoopySink(receiver.port);
  for (let round = 0; round < ROUNDS; round++) {
    const sinkCases: Array<[number[], () => Promise<number>]> = [
      [r.fetch, () => fetchLoop(receiver.port)],
      [r.sink, () => snoopySink(receiver.port)],
      [r.httpLoop, () => httpLoop(receiver.port)],
    ];
    for (const [out, f] of round % 2 ? sinkCases.reverse() : sinkCases) {
      out.push(await f());
      if (process.env.BENCH_DEBUG) console.error(`  ${out === r.sink ? 'sink' : out === r.fetch ? 'fetch' : 'node:http'} ${Math.round(out.at(-1)!)}`);
    }
    const sourceCases: Array<[number[], string]> = [
      [r.bare, 'bare'],
      [r.source, 'snoopy-source'],
    ];
    for (const [out, mode] of round % 2 ? sourceCases.reverse() : sourceCases) {
      if (process.env.BENCH_DEBUG) console.error(`  starting ${mode}`);
      const server = await startServer(mode);
      if (process.env.BENCH_DEBUG) console.error(`  started ${mode}`);
      await load(server.port); // warm-up
      out.push(await load(server.port));
      if (process.env.BENCH_DEBUG) console.error(`  ${mode} ${Math.round(out.at(-1)!)}`);
      await stop(server.child);
    }
    console.error(`round ${round + 1}/${ROUNDS} done`);
  }
  await stop(receiver.child);

  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const paired = (xs: number[], base: number[]): string => median(xs.map((x, i) => x / base[i]!)).toFixed(2) + 'x';
  const range = (xs: number[], base: number[]): string => {
    const ratios = xs.map((x, i) => x / base[i]!).sort((a, b) => a - b);
    return `${ratios[0]!.toFixed(2)}–${ratios[ratios.length - 1]!.toFixed(2)}`;
  };
  const lines = [
    `node ${process.version}, ${process.platform}/${process.arch}; N=${N}, concurrency ${C}, ${ROUNDS} rounds; req/s is the median round, ratio the median of per-round ratios`,
    '',
    '| case | req/s | ratio | per-round range | target |',
    '|---|---:|---:|---:|---:|',
    `| hand-written fetch loop, signed, keep-alive | ${fmt(median(r.fetch))} | 1.00x | | |`,
    `| snap -> webhook sink | ${fmt(median(r.sink))} | ${paired(r.sink, r.fetch)} | ${range(r.sink, r.fetch)} | >= 0.9x |`,
    `| (reference) hand-written node:http loop, keep-alive Agent | ${fmt(median(r.httpLoop))} | ${paired(r.httpLoop, r.fetch)} | ${range(r.httpLoop, r.fetch)} | |`,
    `| snap -> webhook sink, against the node:http loop | | ${paired(r.sink, r.httpLoop)} | ${range(r.sink, r.httpLoop)} | |`,
    `| bare node:http handler with the HMAC check | ${fmt(median(r.bare))} | 1.00x | | |`,
    `| webhookSource -> snap (answered after the snap) | ${fmt(median(r.source))} | ${paired(r.source, r.bare)} | ${range(r.source, r.bare)} | >= 0.8x |`,
  ];
  console.log(lines.join('\n'));
  const out = fileURLToPath(new URL('../results/http.md', import.meta.url));
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  writeFileSync(out, `# bench/http\n\nCommand: \`npx tsc -b packages/http bench && node bench/dist/http.js\`\n\n${lines.join('\n')}\n`);
}

if (process.argv[2] === 'serve') await serve(process.argv[3]!);
else await main();
