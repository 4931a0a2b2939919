// `snoopy gateway --config gateway.json`: the built bin in a child process; /healthz, publish with a
// grant, /metrics, a bad config (exit 2), and a graceful SIGTERM (exit 0, open stream gets `close`).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { Grants } from '../packages/http/src/index.js';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { openStream, until } from './gateway-helpers.js';

const servers = bootstrapServers();
const repo = fileURLToPath(new URL('../', import.meta.url));
const bin = join(repo, 'packages/cli/dist/bin.js');

function env(): NodeJS.ProcessEnv {
  const e = { ...process.env, SNOOPY_LOG_LEVEL: 'warn', KAFKA_BOOTSTRAP_SERVERS: servers ?? '' };
  delete e.NODE_OPTIONS;
  return e;
}

describe.skipIf(!servers)('snoopy gateway', () => {
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-b', 'packages/http'], { cwd: repo, stdio: 'pipe' });
    try {
      execFileSync('npx', ['tsc', '-p', 'packages/cli'], { cwd: repo, stdio: 'pipe' });
    } catch (error) {
      // Type errors elsewhere in the CLI still emit JavaScript; the gateway command must be there.
      if (!existsSync(join(repo, 'packages/cli/dist/commands/gateway.js'))) throw error;
    }
  }, 180_000);

  test('runs from a config file, serves, and stops gracefully on SIGTERM', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snoopy-gateway-cli-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const topic = randomName('gw-cli');
    const key = { kid: 'cli', secret: randomBytes(32).toString('base64url') };
    const config = join(dir, 'gateway.json');
    writeFileSync(config, JSON.stringify({ topics: { [topic]: { partitions: 1 } }, keys: [key], dataDir: 'data', port: 0 }));

    const child = spawn(process.execPath, [bin, 'gateway', '--config', config], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => void child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until(() => out.includes('"listening"') || child.exitCode !== null, 'the gateway to listen');
    expect(child.exitCode, err).toBeNull();
    const { url } = JSON.parse(out.split('\n')[0]!) as { url: string };
    expect(existsSync(join(dir, 'data'))).toBe(true); // dataDir relative to the config

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const grants = new Grants({ keys: [key] });
    const pub = await grants.issue({ topic, scope: 'publish', subject: 'cli', ttl: 60 });
    const read = await grants.issue({ topic, scope: 'read', subject: 'cli', ttl: 60 });
    const res = await fetch(`${url}/topics/${topic}/events`, { method: 'POST', headers: { authorization: `Bearer ${pub}`, 'content-type': 'application/json' }, body: JSON.stringify({ value: { hello: 'cli' } }) });
    expect(res.status).toBe(201);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(`snoopy_gateway_publishes_total{topic="${topic}"} 1`);
    const stream = openStream(`${url}/topics/${topic}/stream?from=earliest`, { authorization: `Bearer ${read}` });
    await until(() => stream.messages().length === 1, 'the published event on the stream');

    child.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    await until(() => stream.ended, 'the stream to end');
    expect(stream.events.at(-1)).toMatchObject({ event: 'close' });
  });

  test('a bad config is a command-line error (exit 2) that names the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snoopy-gateway-cli-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'gateway.json');
    writeFileSync(config, JSON.stringify({ topics: {}, keys: [], dataDir: 'data', prot: 1 }));
    const child = spawn(process.execPath, [bin, 'gateway', '--config', config], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain('Expected `prot` to be absent');
  });
});
