// SIGKILL a worker mid-stream: after a restart from the checkpoint, no change is lost.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { install } from '../src/index.js';
import { freshTables, testPool, until, url } from './helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');
const worker = join(import.meta.dirname, 'fixtures', 'worker.mjs');

function start(env: Record<string, string>): { child: ChildProcess; exited: Promise<unknown>; output: () => string } {
  const child = spawn(process.execPath, [worker], { cwd: root, env: { ...process.env, SNOOPY_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, exited, output: () => output };
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe.skipIf(!url)('a worker killed with SIGKILL', () => {
  it('loses nothing: the restarted worker resumes from the checkpoint and every change is processed', { timeout: 240_000 }, async () => {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/postgres'], { cwd: root, stdio: 'pipe' });
    const pool = testPool();
    const { schema, orders } = await freshTables(pool);
    await install(pool, { tables: [orders], schema });
    const total = 600; // 12 s of work for the first worker (20 ms each): it is killed long before the end
    await pool.query(`INSERT INTO ${orders} (id, item) SELECT g, 'item' FROM generate_series(1, $1::int) g`, [total]);
    const dir = mkdtempSync(join(tmpdir(), 'pg-crash-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'processed.txt');
    const env = { PG_URL: url!, SCHEMA: schema, OUT: out };

    const first = start({ ...env, DELAY_MS: '20' });
    const checkpointed = async (): Promise<boolean> => (await pool.query(`SELECT 1 FROM ${schema}.checkpoints WHERE name = 'default'`)).rows.length === 1;
    await until('the first worker to process 40 changes and write a checkpoint', async () => (lines(out).length >= 40 && (await checkpointed())) || first.child.exitCode !== null, 120_000);
    expect(first.child.exitCode, first.output()).toBeNull();
    first.child.kill('SIGKILL');
    await first.exited;
    const beforeKill = new Set(lines(out)).size;
    expect(beforeKill).toBeLessThan(total); // it really died mid-stream

    const second = start({ ...env, DELAY_MS: '0' });
    await until('every change to be processed', () => new Set(lines(out)).size === total || second.child.exitCode !== null, 120_000);
    expect(second.child.exitCode, second.output()).toBeNull();
    const seen = new Set(lines(out));
    for (let id = 1; id <= total; id++) expect(seen.has(String(id)), `change ${id} processed`).toBe(true);
    // Redelivered after the restart: at most what was past the checkpoint when it died.
    expect(lines(out).length - total).toBeLessThanOrEqual(beforeKill);
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
