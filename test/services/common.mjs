// Shared plumbing for the local service launchers (test/postgres, test/redis): free ports,
// waiting for a TCP port, and stopping a process by pid. Plain JavaScript: runs without a build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname } from 'node:path';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => { socket.destroy(); resolve(false); });
  });
}

export function isAlive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Waits until `port` accepts connections, failing early when the process died. */
export async function waitForPort(port, { pid, timeoutMs, what, logTail }) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await canConnect(port)) return;
    if (pid !== undefined && !isAlive(pid)) {
      throw new Error(`${what} exited before it listened on 127.0.0.1:${port}\n${logTail?.() ?? ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms\n${logTail?.() ?? ''}`);
}

/** `sig`, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
export async function stopPid(pid, { sig = 'SIGTERM', timeoutMs = 10_000 } = {}) {
  if (!isAlive(pid)) return;
  try { process.kill(pid, sig); } catch { return; }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (isAlive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 25));
  }
}

/** uid and gid of a system user, or undefined when there is none. */
export function userIds(name) {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export function tailFile(file, lines = 30) {
  try { return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return ''; }
}

/**
 * The handle a launcher returns: `stop()` sends `sig` (SIGKILL after `timeoutMs`), then removes
 * the temp folder unless `keepDir`; idempotent, and `[Symbol.asyncDispose]` is an alias.
 */
export function serverHandle({ pid, dir, log, keepDir, sig = 'SIGTERM', timeoutMs = 10_000, ...fields }) {
  let stopped;
  const server = {
    ...fields,
    dir,
    pid,
    logTail: (lines) => tailFile(log, lines),
    stop() {
      stopped ??= (async () => {
        await stopPid(pid, { sig, timeoutMs });
        if (!keepDir) rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    [Symbol.asyncDispose]() { return server.stop(); },
  };
  return server;
}

/**
 * `node <launcher> start|stop|status`: start keeps the server running in the background and
 * records it in `stateFile`; stop ends it and removes its folder; status prints its URL.
 */
export async function serviceCli({ command, usage, stateFile, start, sig = 'SIGTERM', timeoutMs = 10_000 }) {
  if (command === 'start') {
    const server = await start({ keepDir: true });
    mkdirSync(dirname(stateFile), { recursive: true });
    writeFileSync(stateFile, JSON.stringify({ pid: server.pid, dir: server.dir, url: server.url }));
    console.log(server.url);
  } else if (command === 'stop') {
    if (!existsSync(stateFile)) return;
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    await stopPid(state.pid, { sig, timeoutMs });
    rmSync(state.dir, { recursive: true, force: true });
    rmSync(stateFile, { force: true });
  } else if (command === 'status') {
    if (!existsSync(stateFile)) { console.log('stopped'); process.exitCode = 1; return; }
    console.log(JSON.parse(readFileSync(stateFile, 'utf8')).url);
  } else {
    console.error(usage);
    process.exitCode = 2;
  }
}
