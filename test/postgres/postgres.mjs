#!/usr/bin/env node
// A real PostgreSQL server for snoopy's tests, CI, examples and benches.
//
// Debian's `postgresql` binaries (initdb, postgres), run on a free port on 127.0.0.1 with a fresh
// data directory in a temp folder. PostgreSQL refuses to run as root: when this runs as root the
// server runs as the `postgres` system user (Debian's package creates it).
//
//   import { startPostgres } from './test/postgres/postgres.mjs';
//   const pg = await startPostgres();   // { url, host, port, dir, pid, stop() }
//
//   node test/postgres/postgres.mjs start    # start in the background, print the URL
//   node test/postgres/postgres.mjs stop
//
// Environment: SNOOPY_PG_BINDIR (the folder with initdb and postgres; default the newest
// /usr/lib/postgresql/<v>/bin), SNOOPY_PG_STATE (the CLI's state file, default <repo>/.tmp/postgres.json).
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, serverHandle, serviceCli, stopPid, tailFile, userIds, waitForPort } from '../services/common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');

export function binDir() {
  if (process.env.SNOOPY_PG_BINDIR) return process.env.SNOOPY_PG_BINDIR;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error('No PostgreSQL server found under /usr/lib/postgresql: apt-get install postgresql (or set SNOOPY_PG_BINDIR)');
  }
  return join(base, versions[0], 'bin');
}


/**
 * Starts a fresh PostgreSQL cluster. Connect as user `postgres`, database `postgres`, no password
 * (trust authentication on 127.0.0.1 only: a test server).
 */
export async function startPostgres({ timeoutMs = 60_000, keepDir = false } = {}) {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? userIds('postgres') : undefined;
  if (asRoot && !ids) throw new Error('Running as root and there is no `postgres` user to run PostgreSQL as (apt-get install postgresql creates it)');
  mkdirSync(data, { mode: 0o700 });
  if (ids) { chownSync(dir, ids.uid, ids.gid); chownSync(data, ids.uid, ids.gid); }
  const as = ids ? { uid: ids.uid, gid: ids.gid } : {};

  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], {
    cwd: dir, encoding: 'utf8', ...as,
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  }
  const port = await freePort();
  const logFd = openSync(log, 'a');
  if (ids) chownSync(log, ids.uid, ids.gid);
  const child = spawn(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'max_connections=200', '-c', 'shared_buffers=128MB',
  ], { cwd: dir, stdio: ['ignore', logFd, logFd], detached: true, ...as });
  child.unref();
  const pid = child.pid;
  try {
    await waitForPort(port, { pid, timeoutMs, what: 'PostgreSQL', logTail: () => tailFile(log) });
    // The port opens a moment before the server accepts queries: wait for pg_isready.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'], { encoding: 'utf8' });
      if (ready.status === 0) break;
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not become ready\n${tailFile(log)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stopPid(pid, { sig: 'SIGINT' });
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return serverHandle({
    pid, dir, log, keepDir, sig: 'SIGINT', timeoutMs: 15_000,
    host: '127.0.0.1', port, url: `postgres://postgres@127.0.0.1:${port}/postgres`,
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  serviceCli({
    command: process.argv[2],
    usage: 'usage: node test/postgres/postgres.mjs start|stop|status',
    stateFile: process.env.SNOOPY_PG_STATE || join(repoRoot, '.tmp', 'postgres.json'),
    start: startPostgres, sig: 'SIGINT', timeoutMs: 15_000,
  }).catch((err) => { console.error(err.message); process.exit(1); });
}
