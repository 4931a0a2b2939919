#!/usr/bin/env node
// A real Redis server for snoopy's tests, CI, examples and benches.
//
// Debian's `redis-server`, on a free port on 127.0.0.1 in a temp folder, without persistence.
//
//   import { startRedis } from './test/redis/redis.mjs';
//   const redis = await startRedis();   // { url, host, port, dir, pid, stop() }
//
//   node test/redis/redis.mjs start      # start in the background, print the URL
//   node test/redis/redis.mjs stop
//
// Environment: SNOOPY_REDIS_SERVER (the binary, default redis-server on the PATH),
// SNOOPY_REDIS_STATE (the CLI's state file, default <repo>/.tmp/redis.json).
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, serverHandle, serviceCli, stopPid, waitForPort, tailFile } from '../services/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');

export async function startRedis({ timeoutMs = 30_000, keepDir = false } = {}) {
  const bin = process.env.SNOOPY_REDIS_SERVER || 'redis-server';
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-redis-'));
  const log = join(dir, 'redis.log');
  const port = await freePort();
  const logFd = openSync(log, 'a');
  const child = spawn(bin, [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes',
  ], { cwd: dir, stdio: ['ignore', logFd, logFd], detached: true });
  const spawnError = new Promise((_, reject) => child.once('error', (err) => reject(new Error(
    err.code === 'ENOENT' ? `${bin} not found: apt-get install redis-server (or set SNOOPY_REDIS_SERVER)` : err.message))));
  spawnError.catch(() => {});
  child.unref();
  const pid = child.pid;
  try {
    await Promise.race([waitForPort(port, { pid, timeoutMs, what: 'Redis', logTail: () => tailFile(log) }), spawnError]);
  } catch (err) {
    if (pid) await stopPid(pid);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return serverHandle({
    pid, dir, log, keepDir, sig: 'SIGTERM', timeoutMs: 10_000,
    host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}`,
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  serviceCli({
    command: process.argv[2],
    usage: 'usage: node test/redis/redis.mjs start|stop|status',
    stateFile: process.env.SNOOPY_REDIS_STATE || join(repoRoot, '.tmp', 'redis.json'),
    start: startRedis, sig: 'SIGTERM', timeoutMs: 10_000,
  }).catch((err) => { console.error(err.message); process.exit(1); });
}
