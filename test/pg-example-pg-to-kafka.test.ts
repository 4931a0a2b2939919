// examples/pg-to-kafka, built and run with node against the test broker and PostgreSQL: the
// changes of an orders table go through Kafka and come back out in order.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { describe, expect, onTestFinished, test } from 'vitest';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { postgresUrl } from './setup/services-helpers.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const servers = bootstrapServers();
const url = postgresUrl();
// The root has no pg dependency of its own: the postgres package's.
const pg = createRequire(join(root, 'packages', 'postgres', 'package.json'))('pg') as typeof import('pg');

describe.skipIf(!servers || !url)('examples/pg-to-kafka', () => {
  test('publishes the inserts, the update and the delete of orders to Kafka, keyed by table and primary key', { timeout: 240_000 }, async () => {
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'examples/pg-to-kafka'], { cwd: root });
    const app = `app_${randomBytes(5).toString('hex')}`;
    const schema = `snoopy_${randomBytes(5).toString('hex')}`;
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    onTestFinished(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS ${app} CASCADE`);
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    });
    await pool.query(`CREATE SCHEMA ${app}`);
    const { stdout } = await run(process.execPath, [join(root, 'examples', 'pg-to-kafka', 'dist', 'main.js')], {
      cwd: root,
      timeout: 180_000,
      killSignal: 'SIGKILL',
      env: {
        ...process.env,
        KAFKA_BOOTSTRAP_SERVERS: servers!,
        PG_URL: url!,
        TABLE: `${app}.orders`,
        SCHEMA: schema,
        TOPIC: randomName('orders-changes'),
        GROUP: randomName('printer'),
        SNOOPY_LOG_LEVEL: 'warn',
      },
    });
    expect(stdout.trim().split('\n')).toEqual([
      `${app}.orders:1 insert qty=2`,
      `${app}.orders:2 insert qty=1`,
      `${app}.orders:3 insert qty=1`,
      `${app}.orders:2 update qty qty=4`,
      `${app}.orders:3 delete`,
    ]);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.checkpoints`);
    expect(rows).toEqual([{ n: 1 }]);
  });
});
