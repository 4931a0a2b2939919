/**
 * Starts a real Confluent-API-compatible schema registry for tests: Apicurio Registry 2.4.2
 * (in-memory H2 storage) from the jar test/registry/install.sh builds, on 127.0.0.1 and a port the
 * JVM picks. Its Confluent-compatible API is at `<base>/apis/ccompat/v7`.
 *
 * Set SNOOPY_SCHEMA_REGISTRY_URL to use a registry that is already running instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TestRegistry {
  /** Base URL of the Confluent-compatible API, for `SchemaRegistry({ url })` and Confluent's client. */
  readonly url: string;
  /** What is serving it. */
  readonly kind: string;
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const home = process.env.SNOOPY_REGISTRY_HOME ?? join(homedir(), '.cache', 'snoopy', 'apicurio-registry-2.4.2');
const jar = join(home, 'apicurio-registry.jar');

/** Builds the registry jar if it is missing (`install.sh` is idempotent and quick once built). */
function ensureInstalled(): void {
  const result = spawnSync('bash', [join(here, 'install.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60_000 });
  if (result.status !== 0 || !existsSync(jar)) {
    throw new Error(`test/registry/install.sh failed (status ${result.status}):\n${result.stdout}\n${result.stderr}`.slice(-4000));
  }
}

export async function startRegistry({ timeoutMs = 90_000 } = {}): Promise<TestRegistry> {
  const external = process.env.SNOOPY_SCHEMA_REGISTRY_URL;
  if (external) return { url: external.replace(/\/+$/, ''), kind: `external registry at ${external}`, close: async () => {} };

  ensureInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'snoopy-registry-'));
  const logPath = join(dir, 'registry.log');
  const log = openSync(logPath, 'w');
  const child = spawn(
    'java',
    [
      // A small, quick-starting JVM: the tests send a handful of requests.
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Xmx384m',
      '-Dquarkus.http.host=127.0.0.1',
      '-Dquarkus.http.port=0',
      '-Dquarkus.log.console.json=false',
      `-Djava.io.tmpdir=${dir}`,
      '-jar',
      jar,
    ],
    { stdio: ['ignore', log, log], env: { ...process.env, HTTP_PORT: '0' } },
  );
  closeSync(log);
  const readLog = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const base = await waitForListening(child, readLog, timeoutMs);
    const url = `${base}/apis/ccompat/v7`;
    await waitForReady(url, timeoutMs);
    let closing: Promise<void> | undefined;
    return { url, kind: 'Apicurio Registry 2.4.2.Final (Confluent-compatible API)', close: () => (closing ??= stop()) };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForListening(child: ChildProcess, readLog: () => string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = /Listening on: (http:\/\/127\.0\.0\.1:\d+)/.exec(readLog());
    if (match) return match[1]!;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Schema registry exited (${child.exitCode ?? child.signalCode}) before listening:\n${readLog().slice(-4000)}`);
    }
    if (Date.now() > deadline) throw new Error(`Schema registry did not listen within ${timeoutMs} ms:\n${readLog().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/subjects`);
      if (response.ok) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) throw new Error(`Schema registry at ${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
