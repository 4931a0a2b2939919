// Kafka source -> webhook sink, the sending worker SIGKILLed mid-stream and restarted: every
// message reaches the receiver at least once, and the receiver's dedupe by webhook-id makes the
// processed set exact (each message processed once).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ack, rootLogger } from '@snoopy/core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Topic } from '../packages/kafka/src/index.js';
import { generateSecret, webhookSource, type WebhookEvent } from '../packages/http/src/index.js';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { produceInputs, root } from './fixtures/kafka-worker/harness.js';

const servers = bootstrapServers();
const app = fileURLToPath(new URL('./fixtures/http-worker/app.mjs', import.meta.url));
const running = new Set<ChildProcess>();

function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, [app], { cwd: root, env: { ...process.env, SNOOPY_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 50) lines.splice(0, lines.length - 50);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (running.delete(child), resolve(code))));
  return { child, exited, tail: () => lines.join('\n') };
}

async function killAll(): Promise<void> {
  const children = [...running];
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
}

describe.skipIf(!servers)('webhook sink under SIGKILL', () => {
  beforeAll(() => {
    rootLogger().level = 'silent'; // refused and duplicate deliveries are expected here
    execFileSync('npx', ['tsc', '-b', 'packages/http'], { cwd: root, stdio: 'pipe' });
  }, 180_000);
  afterEach(() => killAll());
  afterAll(() => killAll());

  test('every message processed exactly once at the receiver after repeated crashes', { timeout: 240_000 }, async () => {
    const config = { 'bootstrap.servers': servers! };
    const input = randomName('wh-in');
    const group = randomName('wh-group');
    await using inTopic = Topic(input, config);
    await inTopic.create({ partitions: 4 });
    const n = 2000;
    await produceInputs(input, config, n);

    const secret = generateSecret();
    await using receiver = webhookSource<{ id: number }>({ secrets: [secret], path: '/hook', ackTimeoutMs: 10_000 });
    const { url } = await receiver.listen();
    const processed = new Map<number, number>();
    const ids = new Set<string>();
    const consuming = (async () => {
      for await (const e of receiver as AsyncIterable<WebhookEvent<{ id: number }>>) {
        processed.set(e.value.id, (processed.get(e.value.id) ?? 0) + 1);
        ids.add(e.id);
        receiver[ack](e);
      }
    })();
    const untilProcessed = async (count: number, exited: Promise<unknown>): Promise<void> => {
      let gone = false;
      void exited.then(() => (gone = true));
      const deadline = Date.now() + 120_000;
      while (processed.size < count && !gone) {
        if (Date.now() > deadline) throw new Error(`only ${processed.size} of ${count} processed in 120 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const env = { KAFKA_BOOTSTRAP_SERVERS: servers!, INPUT: input, GROUP: group, URL: url, SECRET: secret };
    for (let round = 0; round < 3; round++) {
      const worker = startWorker({ ...env, WORKER_ID: `w${round}` });
      await untilProcessed(Math.min(processed.size + 300, n - 300), worker.exited);
      expect(worker.child.exitCode, worker.tail()).toBeNull();
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    expect(processed.size).toBeLessThan(n);

    const last = startWorker({ ...env, WORKER_ID: 'final' });
    await untilProcessed(n, last.exited);
    expect(processed.size, last.tail()).toBe(n);
    last.child.kill('SIGTERM');
    expect(await last.exited, last.tail()).toBe(0);

    for (let id = 0; id < n; id++) expect(processed.get(id), `message ${id}`).toBe(1);
    expect(ids.size).toBe(n);
    const stats = receiver.stats;
    console.log(`webhook crash: ${n} messages, ${stats.accepted} processed, ${stats.duplicates} duplicate deliveries answered from the dedupe window`);
    await receiver.close();
    await consuming;
  });
});
