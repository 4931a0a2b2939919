// "Use snoopy in your project", as a new user does it: pack the packages (`pnpm pack:all`), create a
// project in a temp directory outside the monorepo, install the tarballs with plain npm (the Kafka
// client downloads its prebuilt binary or builds librdkafka, as .ci/install lets it), compile a
// TypeScript worker with standard decorators against them, and run it against the test broker.
//
// npm's cache lives in ${XDG_CACHE_HOME:-~/.cache}/snoopy/npm so later runs download nothing. Where
// no prebuilt Kafka client binary can be downloaded, npm builds librdkafka, every run: about 8
// minutes of CPU, at the lowest priority so the suites beside it keep their pace (19 minutes of
// wall time measured on 2 cores at load 30); hence the generous timeouts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const servers = bootstrapServers();
const npmCache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'snoopy', 'npm');

/** The environment .ci/install gives the Kafka client's install script. */
function installEnv(): NodeJS.ProcessEnv {
  // Nothing of the monorepo's own pnpm run (npm_config_*, npm_package_*) may leak into the project.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_(config|package|lifecycle)_/i.test(key)));
  env.CKJS_LINKING = 'dynamic';
  // No MAKEFLAGS=-j: the gyp build of librdkafka races on its config.h when run in parallel.
  env.npm_config_cache = npmCache;
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node.h'))) env.npm_config_nodedir = prefix;
  else if (existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  return env;
}

const worker = `import { snap, stream } from '@snoopy/core';
import { Topic, type KafkaMessage } from '@snoopy/kafka';

interface Order {
  id: number;
  total: number;
}

const servers = process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092';
const name = process.env.TOPIC ?? 'orders';
const orders = Topic<Order>(name, { 'bootstrap.servers': servers, 'group.id': \`\${name}-billing\` }, { offset: 'earliest' });
await orders.create({ partitions: 2 });
for (let id = 1; id <= 5; id++) await orders([\`k\${id}\`, { id, total: id * 10 }]);

const done = new AbortController();
const giveUp = setTimeout(() => done.abort(new Error('no 5 invoices within 120 s')), 120_000);
let invoiced = 0;

class Billing {
  @snap(orders, { sink: [(line: string) => { console.log(line); if (++invoiced === 5) done.abort(); }] })
  static invoice(msg: KafkaMessage<Order>): string {
    return \`invoice \${msg.value.id}: \${msg.value.total} (\${msg.key})\`;
  }
}

const summary = await stream({ signal: done.signal, handleSignals: false });
clearTimeout(giveUp);
await orders.close(); // the stream closes nothing it did not create
console.log(\`\${Billing.name}: \${summary.in} in, \${summary.out} out\`);
`;

const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023', 'ESNext.Disposable', 'ESNext.Decorators'],
    types: ['node'],
    strict: true,
    skipLibCheck: false,
    rootDir: 'src',
    outDir: 'dist',
  },
  include: ['src'],
};

describe.skipIf(!servers)('installing the packed packages with npm in a project of its own', () => {
  it('packs, installs, compiles a decorated worker and runs it against the broker', { timeout: 3_600_000 }, async () => {
    const project = await mkdtemp(join(tmpdir(), 'snoopy-install-'));
    onTestFinished(() => rm(project, { recursive: true, force: true }));
    expect(relative(root, project).startsWith('..'), 'the project must be outside the monorepo').toBe(true);

    const packs = join(project, 'packs');
    await run(process.execPath, [join(root, 'scripts', 'pack-all.mjs'), '--out', packs, 'core', 'codecs', 'kafka'], {
      cwd: root,
      timeout: 600_000,
    });
    const tarballs = (await readdir(packs)).filter((f) => f.endsWith('.tgz')).sort();
    expect(tarballs).toEqual(['snoopy-codecs-0.1.0.tgz', 'snoopy-core-0.1.0.tgz', 'snoopy-kafka-0.1.0.tgz']);

    await mkdir(join(project, 'src'));
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-worker', private: true, type: 'module' }, null, 2));
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    await writeFile(join(project, 'src', 'main.ts'), worker);

    const npm = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
    // At the lowest CPU priority: building librdkafka must not slow the suites running beside it.
    const nice = existsSync('/usr/bin/nice') ? ['/usr/bin/nice', '-n', '19'] : [];
    const [cmd, ...args] = [...nice, 'npm', ...npm, ...tarballs.map((t) => `./packs/${t}`)];
    await run(cmd!, args, { cwd: project, env: installEnv(), timeout: 3_000_000, maxBuffer: 64 << 20 });
    await run('npm', [...npm, '--save-dev', 'typescript@5.9', '@types/node@20'], { cwd: project, env: installEnv(), timeout: 600_000 });
    // Everything came from the tarballs, nothing from the monorepo.
    const { stdout: where } = await run(process.execPath, ['-p', "require.resolve('@snoopy/kafka/package.json')"], { cwd: project });
    expect(where.trim().startsWith(join(project, 'node_modules'))).toBe(true);

    await run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: project, timeout: 300_000 }).catch((err: { stdout?: string }) => {
      throw new Error(`tsc failed in the new project:\n${err.stdout ?? String(err)}`);
    });

    const topic = randomName('install-orders');
    const { stdout } = await run(process.execPath, ['dist/main.js'], {
      cwd: project,
      timeout: 180_000,
      env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: servers!, TOPIC: topic, SNOOPY_LOG_LEVEL: 'warn' },
    }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`the worker failed: ${String(err)}\nstdout:\n${err.stdout ?? ''}\nstderr:\n${err.stderr ?? ''}`);
    });
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 5).sort()).toEqual([1, 2, 3, 4, 5].map((id) => `invoice ${id}: ${id * 10} (k${id})`));
    expect(lines[5]).toBe('Billing: 5 in, 5 out');
  });
});
