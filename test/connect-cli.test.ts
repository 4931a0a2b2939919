// `snoopy run <module>`: the built bin in a child process, on a DataSource module
// (packages/connect/test/fixtures/pages-source.mjs).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ack } from '@snoopy/core';
import { Topic } from '@snoopy/kafka';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';

process.env.SNOOPY_LOG_LEVEL ??= 'warn';
const repo = fileURLToPath(new URL('../', import.meta.url));
const bin = join(repo, 'packages/cli/dist/bin.js');
const pages = join(repo, 'packages/connect/test/fixtures/pages-source.mjs');

function env(): NodeJS.ProcessEnv {
  const e = { ...process.env, SNOOPY_LOG_LEVEL: 'silent' };
  delete e.NODE_OPTIONS;
  return e;
}

beforeAll(() => {
  // Serialized with the other suites that build it (an unchanged build writes nothing).
  const lock = join(tmpdir(), 'snoopy-connect-build.lock');
  execFileSync('flock', [lock, 'npx', 'tsc', '-p', 'packages/connect'], { cwd: repo, stdio: 'pipe' });
  try {
    execFileSync('flock', [lock, 'npx', 'tsc', '-p', 'packages/cli'], { cwd: repo, stdio: 'pipe' });
  } catch (error) {
    // Type errors elsewhere in the CLI still emit JavaScript; the run command must be there.
    if (!existsSync(join(repo, 'packages/cli/dist/commands/run.js'))) throw error;
  }
}, 180_000);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function snoopy(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: repo, env: { ...env(), ...extraEnv }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function ndjson(text: string): unknown[] {
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
}

describe('snoopy run', () => {
  it('runs a source with flags generated from its params, NDJSON on stdout', async () => {
    const ran = await snoopy(['run', pages, '--count', '20', '--api-key', 'k-123', '--tags', 'a,b', '--tags', 'c', '--upper']);
    expect(ran.stderr).not.toContain('k-123');
    expect(ran.code).toBe(0);
    const items = ndjson(ran.stdout);
    expect(items).toHaveLength(20);
    expect(items[0]).toEqual({ i: 0, name: 'ITEM-0', tags: ['a', 'b', 'c'] });
    expect(items.map((x) => (x as { i: number }).i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('--help lists the module\'s parameters', async () => {
    const ran = await snoopy(['run', pages, '--help']);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^Usage: snoopy run <module>/);
    expect(ran.stdout).toContain('Parameters of Pages');
    expect(ran.stdout).toMatch(/--count <N>\s+How many: items to produce \(required\)/);
    expect(ran.stdout).toMatch(/--api-key <secret>\s+API key \(required, secret\)/);
    expect(ran.stdout).toMatch(/--tags <list>\s+tags \(one of a, b, c, repeatable or comma-separated\)/);
    expect(ran.stdout).toMatch(/--upper\s+upper: names in capitals/);
    const general = await snoopy(['run', '--help']);
    expect(general.code).toBe(0);
    expect(general.stdout).toMatch(/^Usage: snoopy run <module>/);
    expect(general.stdout).not.toContain('Parameters of');
  });

  it('a missing required parameter is exit code 2 with a message naming it', async () => {
    const ran = await snoopy(['run', pages, '--count', '3']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('Pages: parameter `apiKey` is required (--api-key)');
    expect(ran.stderr).toContain('Usage: snoopy run');
    expect(ran.stdout).toBe('');
    const wrong = await snoopy(['run', pages, '--count', 'lots', '--api-key', 'k']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('parameter `count` must be a number, got `"lots"` (string) (--count)');
    const listed = await snoopy(['run', pages, '--count', '1', '--api-key', 'k', '--tags', 'z']);
    expect(listed.code).toBe(2);
    expect(listed.stderr).toContain('parameter `tags` must only hold a, b, c');
  });

  it('a bad command line is exit code 2', async () => {
    expect((await snoopy(['run'])).stderr).toContain('missing <module>');
    const unknown = await snoopy(['run', pages, '--count', '1', '--api-key', 'k', '--bogus', '1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    const missing = await snoopy(['run', join(repo, 'no-such-source.mjs')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-source.mjs: cannot be loaded');
    const notSource = await snoopy(['run', join(repo, 'packages/connect/test/fixtures/not-a-source.mjs'), '--help']);
    expect(notSource.code).toBe(2);
    expect(notSource.stderr).toContain('not-a-source.mjs: exports no DataSource class');
  });

  it('a source that fails is exit code 1, with the reason and without the secret', async () => {
    const ran = await snoopy(['run', pages, '--count', '100', '--fail-at', '14', '--api-key', 'k-secret-9']);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('upstream refused key [secret]');
    expect(ran.stderr).not.toContain('k-secret-9');
    expect(ndjson(ran.stdout).length).toBeLessThanOrEqual(14);
  });

  it('--to writes NDJSON to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snoopy-run-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'out.ndjson');
    const ran = await snoopy(['run', pages, '--count', '9', '--api-key', 'k', '--to', file]);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe('');
    expect(ndjson(readFileSync(file, 'utf8')).map((x) => (x as { name: string }).name)).toEqual(Array.from({ length: 9 }, (_, i) => `item-${i}`));
  });

  const servers = bootstrapServers();
  it.skipIf(!servers)('--to topic:NAME produces every item to Kafka', async () => {
    const name = randomName('connect-run');
    const topic = Topic<{ i: number }>(name, { 'bootstrap.servers': servers!, 'group.id': randomName('connect-run') });
    onTestFinished(() => topic.close());
    await topic.create({ partitions: 1 });
    const ran = await snoopy(['run', pages, '--count', '30', '--api-key', 'k', '--to', `topic:${name}`], { KAFKA_BOOTSTRAP_SERVERS: servers! });
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe('');
    const got: number[] = [];
    for await (const msg of topic) {
      got.push(msg.value.i);
      topic[ack](msg);
      if (got.length === 30) break;
    }
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i));
  }, 120_000);

  it('SIGTERM stops reading, writes what was read and exits 1 (stopped)', async () => {
    const child = spawn(process.execPath, [bin, 'run', pages, '--count', '1000000', '--slow-ms', '2', '--api-key', 'k'], { cwd: repo, env: env() });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!stderr.includes('read 50\n')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the run never got going: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/Pages stopped after \d+ items \(abort\)/);
    const items = ndjson(stdout) as { i: number }[];
    const count = Number(/stopped after (\d+) items/.exec(stderr)![1]);
    expect(items.length).toBe(count);
    expect(items.map((x) => x.i)).toEqual(Array.from({ length: count }, (_, i) => i));
  });
});
