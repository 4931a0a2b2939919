// examples/gateway runs against the test broker: its printed curl line publishes, its in-process
// webhook subscriber receives the big order, and SIGTERM stops it gracefully.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { until } from './gateway-helpers.js';

const servers = bootstrapServers();
const repo = fileURLToPath(new URL('../', import.meta.url));

describe.skipIf(!servers)('examples/gateway', () => {
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-b', 'examples/gateway'], { cwd: repo, stdio: 'pipe' });
  }, 180_000);

  test('publishes with the printed token, delivers the big order to the subscriber, stops on SIGTERM', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snoopy-gateway-example-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const topic = randomName('gw-example');
    const child = spawn(process.execPath, [join(repo, 'examples/gateway/dist/main.js')], {
      cwd: dir,
      env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: servers!, TOPIC: topic, PORT: '0', SNOOPY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => void child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until(() => out.includes('curl -s http') || child.exitCode !== null, 'the curl lines');
    expect(child.exitCode, err).toBeNull();
    const url = /gateway on (http:\/\/\S+),/.exec(out)![1]!;
    const token = /events -H 'authorization: Bearer (\S+)'/.exec(out)![1]!;
    const res = await fetch(`${url}/topics/${topic}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'o1', value: { id: 1, amount: 120, country: 'NL' } }, { key: 'o2', value: { id: 2, amount: 5, country: 'BE' } }]),
    });
    expect(res.status).toBe(201);
    await until(() => out.includes('"event":"webhook"'), 'the webhook line');
    const hooks = out.split('\n').filter((l) => l.includes('"event":"webhook"')).map((l) => JSON.parse(l) as { order: { id: number } });
    expect(hooks.map((h) => h.order.id)).toEqual([1]);
    child.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    expect(out).toContain('{"event":"stopped"}');
  });
});
