// examples/topic-cache, built and run with node against the local broker, prints each message.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, onTestFinished, test } from 'vitest';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const servers = bootstrapServers();

describe.skipIf(!servers)('examples/topic-cache', () => {
  test('prints the four messages after they went through Kafka and the cache', { timeout: 180_000 }, async () => {
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'examples/topic-cache'], { cwd: root });
    const dir = mkdtempSync(join(tmpdir(), 'topic-cache-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const { stdout } = await run(process.execPath, [join(root, 'examples', 'topic-cache', 'dist', 'main.js')], {
      cwd: root,
      timeout: 120_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: servers!, TOPIC: randomName('emoji'), GROUP: randomName('demo'), CACHE_DIR: join(dir, 'db'), SNOOPY_LOG_LEVEL: 'warn' },
    });
    expect(stdout.trim().split('\n')).toEqual(['🏆', '📞', '🐟', '👌']);
  });
});
