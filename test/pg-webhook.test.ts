// @snoopy/postgres changes delivered to a webhook subscriber through @snoopy/http (composed here:
// postgres may not import http, they share a floor). Real PostgreSQL, real HTTP on 127.0.0.1.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Registry } from '@snoopy/core';
import { generateSecret, webhook, webhookSource, type WebhookEvent } from '@snoopy/http';
import { changes, install, rowEvent, type Change, type RowEvent } from '@snoopy/postgres';
import { describe, expect, it, onTestFinished } from 'vitest';
import { postgresUrl } from './setup/services-helpers.js';

const url = postgresUrl();
const pg = createRequire(join(import.meta.dirname, '..', 'packages', 'postgres', 'package.json'))('pg') as typeof import('pg');
const name = (prefix: string): string => `${prefix}_${Math.random().toString(16).slice(2, 12)}`;

describe.skipIf(!url)('changes() -> webhook subscription', () => {
  for (const rows of [false, true]) {
    it(`delivers each change as a signed webhook, ${rows ? 'with the rows when asked' : 'thin by default'}, acknowledged after the 2xx`, async () => {
      const pool = new pg.Pool({ connectionString: url, max: 4 });
      pool.on('error', () => undefined);
      const app = name('app');
      const schema = name('snoopy');
      onTestFinished(async () => {
        await pool.query(`DROP SCHEMA IF EXISTS ${app} CASCADE; DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await pool.end();
      });
      await pool.query(`CREATE SCHEMA ${app}; CREATE TABLE ${app}.orders (id int PRIMARY KEY, qty int NOT NULL)`);
      await install(pool, { tables: [`${app}.orders`], schema });
      await pool.query(`INSERT INTO ${app}.orders VALUES (1, 1), (2, 5)`);
      await pool.query(`UPDATE ${app}.orders SET qty = 2 WHERE id = 1`);
      await pool.query(`DELETE FROM ${app}.orders WHERE id = 2`);

      const secret = generateSecret();
      const inbox = webhookSource<RowEvent>({ secrets: [secret], path: '/hooks' });
      const { url: hook } = await inbox.listen();
      onTestFinished(() => inbox.close());
      const received: { event: RowEvent; id: string }[] = [];
      const registry = new Registry();
      registry.snap(inbox, { name: 'subscriber' })((event: WebhookEvent<RowEvent>) => {
        received.push({ event: event.value, id: event.id });
        if (received.length === 4) void inbox.close();
      });
      const source = changes(pool, { schema, pollMs: 100 });
      // One ordering key per table: the subscriber sees the table's changes in commit order.
      const outbox = webhook<RowEvent>(hook, { secrets: [secret], allowPrivate: true, id: (e) => e.change.replace('/', '_'), key: (e) => e.table });
      registry.snap(source, { name: 'publish', sink: outbox })((change: Change) => rowEvent(change, { rows }));
      const done = new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (received.length === 4 && source.stats().acked === 4) {
            clearInterval(check);
            resolve();
          }
        }, 20);
      });
      const abort = new AbortController();
      const running = registry.stream({ signal: abort.signal, handleSignals: false, progress: false });
      await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`received ${received.length} of 4`)), 60_000).unref())]);
      abort.abort();
      await running;

      const table = `${app}.orders`;
      const events = received.map((r) => r.event);
      expect(events.map((e) => [e.type, e.table, e.id])).toEqual([
        ['row.inserted', table, '1'],
        ['row.inserted', table, '2'],
        ['row.updated', table, '1'],
        ['row.deleted', table, '2'],
      ]);
      expect(received.map((r) => r.id)).toEqual(events.map((e) => e.change.replace('/', '_')));
      if (rows) {
        expect(events[2]).toMatchObject({ old: { id: 1, qty: 1 }, new: { id: 1, qty: 2 }, changed: ['qty'] });
        expect(events[3]).toMatchObject({ old: { id: 2, qty: 5 }, new: null });
      } else {
        for (const e of events) expect(Object.keys(e).sort()).toEqual(['change', 'id', 'table', 'type']);
      }
      await source.close();
      const { rows: saved } = await pool.query(`SELECT txid::text || '/' || seq::text AS id FROM ${schema}.checkpoints`);
      expect(saved).toEqual([{ id: events[3]!.change }]);
    });
  }
});
