#!/usr/bin/env node
// A real Apache Kafka broker for snoopy's tests, CI, examples and benches.
//
// A single-node KRaft broker+controller on 127.0.0.1, run from Apache Kafka's own jars, which
// Maven fetches from Maven Central once into a cache outside the repo (see pom.xml).
//
//   import { startBroker } from './test/broker/broker.mjs';
//   const broker = await startBroker();          // { bootstrapServers, dir, restart(), stop() }
//
//   node test/broker/broker.mjs fetch            # only download the jars
//   node test/broker/broker.mjs start            # start in the background, print bootstrap servers
//   node test/broker/broker.mjs status|restart|stop
//
// Environment: SNOOPY_KAFKA_VERSION (default 4.1.1), SNOOPY_CACHE_DIR (default
// ${XDG_CACHE_HOME:-~/.cache}/snoopy), SNOOPY_KAFKA_JVM_OPTS (replaces the default heap and GC
// flags), SNOOPY_KAFKA_STATE (the CLI's state file, default <repo>/.tmp/kafka-broker.json),
// JAVA_HOME, and MVN (the Maven command, default mvn).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync,
  rmSync, statSync, writeFileSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');

export const KAFKA_VERSION = process.env.SNOOPY_KAFKA_VERSION || '4.1.1';

/** Default JVM flags: a modest heap and a cheap collector, for a 2-core machine shared with the tests. */
const DEFAULT_JVM_OPTS = [
  '-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true',
];
/** The one-shot storage formatter only needs to start fast. */
const TOOL_JVM_OPTS = ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto'];

const READY_MESSAGE = 'Kafka Server started';

export function cacheDir() {
  const base = process.env.SNOOPY_CACHE_DIR
    || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'snoopy');
  return join(base, `kafka-${KAFKA_VERSION}`);
}

export function libsDir() {
  return join(cacheDir(), 'libs');
}

function javaBin() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function libsReady(dir) {
  return existsSync(join(dir, `kafka_2.13-${KAFKA_VERSION}.jar`));
}

/**
 * Downloads Kafka's jars with Maven into the cache, once. Concurrent callers are safe: each
 * downloads into its own folder and the first to finish renames it into place.
 * @returns {string} the folder of jars
 */
export function fetchBroker({ quiet = true } = {}) {
  const libs = libsDir();
  if (libsReady(libs)) return libs;
  mkdirSync(cacheDir(), { recursive: true });
  console.error(`Fetching Apache Kafka ${KAFKA_VERSION} from Maven Central into ${libs} (once)...`);
  const partial = `${libs}.partial-${process.pid}-${randomBytes(3).toString('hex')}`;
  const mvn = process.env.MVN || 'mvn';
  const args = [
    ...(quiet ? ['-q'] : []), '-B', '-f', join(here, 'pom.xml'),
    'dependency:copy-dependencies', `-Dkafka.version=${KAFKA_VERSION}`, `-DoutputDirectory=${partial}`,
  ];
  const run = spawnSync(mvn, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 600_000 });
  if (run.error || run.status !== 0 || !libsReady(partial)) {
    rmSync(partial, { recursive: true, force: true });
    const why = run.error ? run.error.message : `exit ${run.status ?? run.signal}`;
    throw new Error(
      `Fetching Apache Kafka ${KAFKA_VERSION} with Maven failed (${mvn} ${args.join(' ')}): ${why}\n`
        + `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n'),
    );
  }
  try {
    renameSync(partial, libs);
  } catch (err) {
    // Another process put its copy in place first.
    rmSync(partial, { recursive: true, force: true });
    if (!libsReady(libs)) throw err;
  }
  return libs;
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => ok(port));
    });
  });
}

/** A random Kafka cluster id: 16 bytes, base64url, 22 characters. */
function clusterId() {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01; // never the all-zero or the reserved ids
  return bytes.toString('base64url');
}

function serverProperties({ dir, port, controllerPort, partitions, config }) {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(dir, 'data'),
    'num.partitions': String(partitions),
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'auto.create.topics.enable': 'true',
    'delete.topic.enable': 'true',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '4',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '4',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'num.network.threads': '2',
    'num.io.threads': '4',
    'num.recovery.threads.per.data.dir': '1',
    'log.retention.hours': '2',
    'log.segment.bytes': String(64 * 1024 * 1024),
    ...config,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

const LOG4J2 = `status = warn
name = snoopy-test-broker
appender.file.type = File
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
logger.log.name = org.apache.kafka.storage.internals.log
logger.log.level = warn
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = warn
`;

function jvmArgs(dir, extra) {
  const opts = process.env.SNOOPY_KAFKA_JVM_OPTS
    ? process.env.SNOOPY_KAFKA_JVM_OPTS.split(/\s+/).filter(Boolean)
    : extra;
  return [
    ...opts,
    `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${join(dir, 'logs')}`,
    '-cp', join(libsDir(), '*'),
  ];
}

/** The last lines of the broker's logs, for error messages. */
export function logTail(dir, lines = 40) {
  const out = [];
  for (const name of ['stdout.log', 'server.log']) {
    const file = join(dir, 'logs', name);
    if (!existsSync(file)) continue;
    const text = tail(file, 64 * 1024).trimEnd();
    if (text) out.push(`--- ${file} (last lines) ---\n${text.split('\n').slice(-lines).join('\n')}`);
  }
  return out.join('\n') || `(no logs in ${join(dir, 'logs')})`;
}

function tail(file, bytes) {
  const size = statSync(file).size;
  const start = Math.max(0, size - bytes);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

function prepare({ dir, port, controllerPort, partitions, config }) {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'server.properties'), serverProperties({ dir, port, controllerPort, partitions, config }));
  writeFileSync(join(dir, 'log4j2.properties'), LOG4J2);
  if (existsSync(join(dir, 'data', 'meta.properties'))) return; // formatted before: a restart
  const args = [
    ...jvmArgs(dir, TOOL_JVM_OPTS), 'kafka.tools.StorageTool',
    'format', '-t', clusterId(), '-c', join(dir, 'server.properties'),
  ];
  const run = spawnSync(javaBin(), args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 120_000 });
  if (run.error || run.status !== 0) {
    const why = run.error ? run.error.message : `exit ${run.status ?? run.signal}`;
    throw new Error(`Formatting Kafka storage in ${dir} failed (${why}):\n${run.stdout}${run.stderr}`.trim());
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function signal(pid, sig) {
  try {
    process.kill(-pid, sig); // its own process group
  } catch {
    try { process.kill(pid, sig); } catch { /* gone */ }
  }
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Resolves once something accepts a TCP connection on 127.0.0.1:port. */
function canConnect(port) {
  return new Promise((ok) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (up) => { socket.destroy(); ok(up); };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** SIGTERM, then SIGKILL once `timeoutMs` has passed; resolves when the process is gone. */
export async function stopPid(pid, timeoutMs = 20_000) {
  if (!isAlive(pid)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    signal(pid, 'SIGKILL');
    const hard = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < hard) await sleep(50);
  }
}

/**
 * Starts the java process and waits until the broker has started, or fails with the log tail.
 * `attached`: a watchdog kills the broker when this process dies, however it dies.
 */
async function launch({ dir, port, timeoutMs, attached, removeDirOnOrphan = false }) {
  const stdout = openSync(join(dir, 'logs', 'stdout.log'), 'a');
  const serverLog = join(dir, 'logs', 'server.log');
  const logOffset = existsSync(serverLog) ? statSync(serverLog).size : 0;
  const child = spawn(javaBin(), [
    ...jvmArgs(dir, DEFAULT_JVM_OPTS), 'kafka.Kafka', join(dir, 'server.properties'),
  ], { detached: true, stdio: ['ignore', stdout, stdout] });
  closeSync(stdout);
  let exited = null;
  child.once('exit', (code, sig) => { exited = sig ?? code; });
  child.once('error', (err) => { exited = err.message; });
  if (child.pid === undefined) {
    await sleep(10);
    throw new Error(`Could not start ${javaBin()}: ${exited ?? 'no pid'}. Is Java 17+ installed (or JAVA_HOME set)?`);
  }
  const pid = child.pid;
  child.unref();

  let watchdog;
  const onExit = () => signal(pid, 'SIGKILL');
  if (attached) {
    process.once('exit', onExit);
    const watchArgs = ['watchdog', String(pid), ...(removeDirOnOrphan ? [dir] : [])];
    watchdog = spawn(process.execPath, [fileURLToPath(import.meta.url), ...watchArgs], {
      detached: true, stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.unref();
    /** @type {any} */ (watchdog.stdin).unref?.();
    watchdog.stdin?.on('error', () => {});
  }

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== null || !isAlive(pid)) {
      process.off('exit', onExit);
      throw new Error(`The Kafka broker exited while starting (${exited}).\n${logTail(dir)}`);
    }
    if (existsSync(serverLog) && tail(serverLog, statSync(serverLog).size - logOffset).includes(READY_MESSAGE)
        && await canConnect(port)) break;
    if (Date.now() > deadline) {
      await stopPid(pid, 5_000);
      process.off('exit', onExit);
      throw new Error(`The Kafka broker did not start within ${timeoutMs} ms.\n${logTail(dir)}`);
    }
    await sleep(200);
  }
  return {
    pid,
    isRunning: () => exited === null && isAlive(pid),
    async stop(timeoutMs) {
      await stopPid(pid, timeoutMs);
      process.off('exit', onExit);
      watchdog?.kill(); // it would exit within a second of the broker anyway
    },
  };
}

/**
 * Starts a single-node KRaft broker+controller on 127.0.0.1.
 * @param {import('./broker.d.mts').BrokerOptions} [options]
 * @returns {Promise<import('./broker.d.mts').Broker>}
 */
export async function startBroker(options = {}) {
  const {
    port: wantedPort, controllerPort: wantedControllerPort, partitions = 1, config = {},
    timeoutMs = 90_000, stopTimeoutMs = 20_000,
  } = options;
  fetchBroker();
  const ownDir = options.dir === undefined;
  const dir = ownDir ? mkdtempSync(join(tmpdir(), 'snoopy-kafka-')) : resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const port = wantedPort ?? await freePort();
  let controllerPort = wantedControllerPort ?? await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const settings = { dir, port, controllerPort, partitions, config };
  const removeDirOnOrphan = ownDir && !options.keepDir;
  let running;
  try {
    prepare(settings);
    running = await launch({ dir, port, timeoutMs, attached: true, removeDirOnOrphan });
  } catch (err) {
    if (ownDir && !options.keepDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopping;
  const broker = {
    bootstrapServers: `127.0.0.1:${port}`,
    port,
    controllerPort,
    dir,
    get pid() { return running.pid; },
    isRunning: () => running.isRunning(),
    logTail: (lines) => logTail(dir, lines),
    /** Stops the broker and starts it again on the same ports with the same data. */
    async restart({ downMs = 0 } = {}) {
      if (stopping) throw new Error('The Kafka broker was stopped; it cannot be restarted.');
      await running.stop(stopTimeoutMs);
      if (downMs > 0) await sleep(downMs);
      prepare(settings);
      running = await launch({ dir, port, timeoutMs, attached: true, removeDirOnOrphan });
    },
    /** Stops the broker (SIGTERM, SIGKILL after a bound) and removes its folder if it made it. */
    stop() {
      stopping ??= (async () => {
        await running.stop(stopTimeoutMs);
        if (ownDir && !options.keepDir) rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  broker[Symbol.asyncDispose] = broker.stop;
  return broker;
}

// ---------------------------------------------------------------------------------------------
// CLI

function stateFile() {
  return process.env.SNOOPY_KAFKA_STATE || join(repoRoot, '.tmp', 'kafka-broker.json');
}

function readState() {
  try {
    return JSON.parse(readFileSync(stateFile(), 'utf8'));
  } catch {
    return undefined;
  }
}

async function cliStart({ reuseDir } = {}) {
  const prev = readState();
  if (prev && isAlive(prev.pid)) {
    console.log(prev.bootstrapServers);
    return;
  }
  fetchBroker({ quiet: false });
  const dir = reuseDir ?? mkdtempSync(join(tmpdir(), 'snoopy-kafka-cli-'));
  const port = prev?.port && reuseDir ? prev.port : Number(process.env.KAFKA_PORT || 0) || await freePort();
  let controllerPort = prev?.controllerPort && reuseDir ? prev.controllerPort : await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  prepare({ dir, port, controllerPort, partitions: Number(process.env.KAFKA_PARTITIONS || 1), config: {} });
  const { pid } = await launch({ dir, port, timeoutMs: 90_000, attached: false });
  const state = { pid, bootstrapServers: `127.0.0.1:${port}`, port, controllerPort, dir, version: KAFKA_VERSION };
  mkdirSync(dirname(stateFile()), { recursive: true });
  writeFileSync(stateFile(), JSON.stringify(state, null, 2) + '\n');
  console.log(state.bootstrapServers);
}

async function cliStop({ keepDir = false } = {}) {
  const state = readState();
  if (!state) {
    console.error('No broker started by this script is recorded.');
    return undefined;
  }
  await stopPid(state.pid);
  if (!keepDir) {
    rmSync(state.dir, { recursive: true, force: true });
    rmSync(stateFile(), { force: true });
  }
  console.error(`Stopped the Kafka broker (pid ${state.pid}) at ${state.bootstrapServers}.`);
  return state;
}

/** Runs as a separate process: kills the broker (and removes `dir`) when its parent's pipe closes. */
function watchdog(pid, dir) {
  const kill = async () => {
    await stopPid(pid, 10_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.stdin.on('end', kill);
  process.stdin.on('error', kill);
  process.stdin.on('close', kill);
  process.stdin.resume();
  setInterval(() => { if (!isAlive(pid)) process.exit(0); }, 1000);
}

async function main(argv) {
  const [cmd] = argv;
  switch (cmd) {
    case 'fetch':
      console.log(fetchBroker({ quiet: false }));
      return;
    case 'start':
      await cliStart();
      return;
    case 'stop':
      await cliStop();
      return;
    case 'restart': {
      const state = await cliStop({ keepDir: true });
      await cliStart({ reuseDir: state?.dir });
      return;
    }
    case 'status': {
      const state = readState();
      if (state && isAlive(state.pid)) console.log(state.bootstrapServers);
      else { console.error('not running'); process.exitCode = 1; }
      return;
    }
    case 'watchdog':
      watchdog(Number(argv[1]), argv[2]);
      return;
    default:
      console.error('usage: node test/broker/broker.mjs fetch|start|stop|restart|status');
      process.exitCode = 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
