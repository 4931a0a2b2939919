// bench/gateway: the event gateway of @snoopy/http, in one run on the local broker.
//   publish: POST /topics/:topic/events requests/s (one event each, answered 201 after the broker's
//            acknowledgement, grant checked) against a bare node:http handler in front of the raw
//            @confluentinc/kafka-javascript producer that also answers after the delivery report;
//            the same load generator, concurrency and keep-alive for both; target >= 0.8x.
//   fan-out: 100 SSE subscribers with different grant filters (tenant = :t AND amount >= :min) on
//            one topic fed at a fixed rate; delivered messages/s and p50/p99 latency from produce
//            (timestamp in the value) to the client receiving it.
// Servers run in a child process (2 cores: client and server get one each). Publish rounds
// alternate which side goes first; reported as the median round and the median per-round ratio.
// Run: npx tsc -b packages/http bench && node bench/dist/gateway.js
// Env: KAFKA_BOOTSTRAP_SERVERS, BENCH_N (3000), BENCH_CONCURRENCY (32), BENCH_ROUNDS (3),
//      BENCH_SUBSCRIBERS (100), BENCH_RATE (500 msg/s), BENCH_SECONDS (10).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Confluent from '@confluentinc/kafka-javascript';
import { setRootLogger } from '@snoopy/core';
import { pino } from 'pino';
import { Gateway, Grants } from '../../packages/http/dist/index.js';

const SERVERS = process.env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:9092';
const N = Number(process.env.BENCH_N ?? 3000);
const C = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const KEY = { kid: 'bench', secret: process.env.BENCH_KEY ?? randomBytes(32).toString('base64url') };
const self = fileURLToPath(import.meta.url);
setRootLogger(pino({ level: 'silent' }));

type RdProducer = InstanceType<typeof Confluent.Producer>;

async function rawProducer(): Promise<{ p: RdProducer; send(topic: string, value: Buffer, key: string | null): Promise<{ partition: number; offset: number }> }> {
  const p = new Confluent.Producer({ 'bootstrap.servers': SERVERS, dr_cb: true, acks: -1, 'linger.ms': 5, 'enable.idempotence': true });
  await new Promise<void>((ok, fail) => p.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  p.setPollInterval(5);
  p.on('delivery-report', (err, report) => {
    const done = report.opaque as (e: unknown, r: { partition: number; offset: number }) => void;
    done(err, { partition: report.partition, offset: report.offset });
  });
  return {
    p,
    send: (topic, value, key) =>
      new Promise((ok, fail) => {
        try {
          p.produce(topic, null, value, key, Date.now(), (e: unknown, r: { partition: number; offset: number }) => (e ? fail(e) : ok(r)));
        } catch (error) {
          fail(error);
        }
      }),
  };
}

// ---- child: the servers ----
async function serve(mode: string, pubTopic: string, fanTopic: string): Promise<void> {
  if (mode === 'bare') {
    const producer = await rawProducer();
    const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        try {
          const events = JSON.parse(Buffer.concat(chunks).toString()) as { key?: string; value: unknown }[];
          const results = await Promise.all(events.map((e) => producer.send(pubTopic, Buffer.from(JSON.stringify(e.value)), e.key ?? null)));
          const body = JSON.stringify({ results });
          res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        } catch {
          res.writeHead(500).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    process.stdout.write(`${(server.address() as { port: number }).port}\n`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-bench-gateway-'));
  const gateway = await Gateway.start({
    kafka: { 'bootstrap.servers': SERVERS },
    topics: { [pubTopic]: { partitions: 3 }, [fanTopic]: { partitions: 3 } },
    keys: [KEY],
    dataDir: dir,
    port: 0,
    streamBufferBytes: 8 * 1024 * 1024,
  });
  process.on('SIGTERM', () => void gateway.close().finally(() => (rmSync(dir, { recursive: true, force: true }), process.exit(0))));
  process.stdout.write(`${gateway.address.port}\n`);
}

function startServer(mode: string, pubTopic: string, fanTopic: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [self, 'serve', mode, pubTopic, fanTopic], { env: { ...process.env, BENCH_KEY: KEY.secret }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), child }));
    child.once('exit', (code) => reject(new Error(`server ${mode} exited with ${code}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  child.removeAllListeners('exit');
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

/** N publish requests (one event each) with C connections kept alive; requests/s. */
async function publishLoad(port: number, path: string, token: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: C });
  let next = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      const i = next++;
      const body = JSON.stringify([{ key: `k${i % 50}`, value: { id: i, tenant: `t${i % 10}`, amount: i % 1000 } }]);
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(body);
      });
      if (status === 201) ok++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, worker));
  const s = (performance.now() - t0) / 1000;
  agent.destroy();
  if (ok !== N) throw new Error(`only ${ok} of ${N} publishes were answered 201`);
  return N / s;
}

async function fanOut(port: number, topic: string, grants: InstanceType<typeof Grants>): Promise<{ delivered: number; expected: number; rate: number; p50: number; p99: number; max: number }> {
  const latencies: number[] = [];
  let delivered = 0;
  const aborts: AbortController[] = [];
  const opened: Promise<void>[] = [];
  let expected = 0;
  const filters = Array.from({ length: SUBSCRIBERS }, (_, i) => ({ t: `t${i % 10}`, min: (Math.floor(i / 10) % 5) * 100 }));
  for (const f of filters) {
    const token = await grants.issue({ topic, scope: 'read', subject: `sub-${f.t}-${f.min}`, where: 'tenant = :t AND amount >= :min', params: f, ttl: 3600 });
    const abort = new AbortController();
    aborts.push(abort);
    opened.push(
      new Promise<void>((ready, fail) => {
        void (async () => {
          const res = await fetch(`http://127.0.0.1:${port}/topics/${topic}/stream`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
          if (res.status !== 200) return fail(new Error(`stream answered ${res.status}`));
          ready();
          const decoder = new TextDecoder();
          let buf = '';
          try {
            for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
              buf += decoder.decode(chunk, { stream: true });
              let i: number;
              while ((i = buf.indexOf('\n\n')) >= 0) {
                const block = buf.slice(0, i);
                buf = buf.slice(i + 2);
                const data = block.split('\n').find((l) => l.startsWith('data: '));
                if (!data) continue;
                const m = JSON.parse(data.slice(6)) as { value: { ts: number } };
                latencies.push(Date.now() - m.value.ts);
                delivered++;
              }
            }
          } catch {
            // aborted
          }
        })().catch(fail);
      }),
    );
  }
  await Promise.all(opened);
  await new Promise((r) => setTimeout(r, 500));
  const producer = await rawProducer();
  const total = RATE * SECONDS;
  const t0 = Date.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 2) await new Promise((r) => setTimeout(r, wait));
    const v = { id: i, tenant: `t${i % 10}`, amount: (i * 7) % 500, ts: Date.now() };
    for (const f of filters) if (v.tenant === f.t && v.amount >= f.min) expected++;
    sends.push(producer.send(topic, Buffer.from(JSON.stringify(v)), `k${i % 50}`));
  }
  await Promise.all(sends);
  const deadline = Date.now() + 15_000;
  while (delivered < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const elapsed = (Date.now() - t0) / 1000;
  for (const a of aborts) a.abort();
  await new Promise<void>((ok) => producer.p.disconnect(() => ok()));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { delivered, expected, rate: delivered / elapsed, p50: q(0.5), p99: q(0.99), max: latencies.at(-1) ?? NaN };
}

async function main(): Promise<void> {
  const run = randomBytes(3).toString('hex');
  const pubTopic = `bench-gw-pub-${run}`;
  const fanTopic = `bench-gw-fan-${run}`;
  const grants = new Grants({ keys: [KEY] });
  const pubToken = await grants.issue({ topic: pubTopic, scope: 'publish', subject: 'bench', ttl: 3600 });
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const gw: number[] = [];
  const bare: number[] = [];
  const gateway = await startServer('gateway', pubTopic, fanTopic); // creates the topics
  const raw = await startServer('bare', pubTopic, fanTopic);
  await publishLoad(gateway.port, `/topics/${pubTopic}/events`, pubToken); // warm-up
  await publishLoad(raw.port, '/', pubToken);
  for (let round = 0; round < ROUNDS; round++) {
    const cases: Array<[number[], () => Promise<number>]> = [
      [bare, () => publishLoad(raw.port, '/', pubToken)],
      [gw, () => publishLoad(gateway.port, `/topics/${pubTopic}/events`, pubToken)],
    ];
    for (const [out, f] of round % 2 ? cases.reverse() : cases) out.push(await f());
    console.error(`publish round ${round + 1}/${ROUNDS}: bare ${Math.round(bare.at(-1)!)} req/s, gateway ${Math.round(gw.at(-1)!)} req/s`);
  }
  await stop(raw.child);
  const fan = await fanOut(gateway.port, fanTopic, grants);
  await stop(gateway.child);

  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const ratios = gw.map((x, i) => x / bare[i]!).sort((a, b) => a - b);
  const lines = [
    `node ${process.version}, ${process.platform}/${process.arch}; publish: N=${N} requests of one event, concurrency ${C}, ${ROUNDS} rounds; fan-out: ${SUBSCRIBERS} SSE subscribers, ${RATE} msg/s for ${SECONDS} s`,
    '',
    '| case | figure | ratio | per-round range | target |',
    '|---|---:|---:|---:|---:|',
    `| bare node:http + raw producer, publish | ${fmt(median(bare))} req/s | 1.00x | | |`,
    `| gateway POST /topics/:topic/events | ${fmt(median(gw))} req/s | ${median(ratios).toFixed(2)}x | ${ratios[0]!.toFixed(2)}–${ratios.at(-1)!.toFixed(2)} | >= 0.8x |`,
    `| fan-out to ${SUBSCRIBERS} filtered SSE subscribers | ${fmt(fan.rate)} msg/s delivered (${fan.delivered} of ${fan.expected} expected) | | | |`,
    `| produce -> client latency | p50 ${fan.p50} ms, p99 ${fan.p99} ms, max ${fan.max} ms | | | |`,
  ];
  console.log(lines.join('\n'));
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  writeFileSync(fileURLToPath(new URL('../results/gateway.md', import.meta.url)), `# bench/gateway\n\nCommand: \`KAFKA_BOOTSTRAP_SERVERS=... npx tsc -b packages/http bench && node bench/dist/gateway.js\`\n\n${lines.join('\n')}\n`);
}

if (process.argv[2] === 'serve') await serve(process.argv[3]!, process.argv[4]!, process.argv[5]!);
else await main();
