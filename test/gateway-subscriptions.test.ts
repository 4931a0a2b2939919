// Publish over HTTP -> a webhook subscription -> a receiver that verifies with the reference
// library; the gateway restarts in between and loses neither the subscription nor an event; per-key
// order at the receiver.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ack, rootLogger } from '@snoopy/core';
import { Topic } from '../packages/kafka/src/index.js';
import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { adminToken, gatewayOptions, startGateway, tempDir, until } from './gateway-helpers.js';

const servers = bootstrapServers();

interface Got {
  id: string;
  key: string;
  seq: number;
}

describe.skipIf(!servers)('gateway subscriptions', () => {
  beforeAll(() => {
    rootLogger().level = 'warn';
  });

  test('publish -> subscription webhook, verified by the reference library, across a gateway restart', { timeout: 180_000 }, async () => {
    const topic = randomName('gw-orders');
    const dir = await tempDir();
    onTestFinished(() => dir.remove());

    // The subscriber: verifies every request with standardwebhooks, answers 204, sometimes 500 first.
    let secret = '';
    const got: Got[] = [];
    const failedOnce = new Set<string>();
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        let value: { key: string; seq: number };
        try {
          value = new Webhook(secret).verify(body, req.headers as Record<string, string>) as { key: string; seq: number };
        } catch {
          res.writeHead(401).end();
          return;
        }
        const id = req.headers['webhook-id'] as string;
        if (value.seq % 5 === 2 && !failedOnce.has(id)) {
          failedOnce.add(id);
          res.writeHead(500).end();
          return;
        }
        got.push({ id, key: value.key, seq: value.seq });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => (receiver.closeAllConnections(), receiver.close(() => r()))));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    const options = gatewayOptions(servers!, { [topic]: { partitions: 3 } }, dir.path, { webhookRetry: { attempts: 20, baseMs: 20, maxMs: 200 } });
    let gateway = await startGateway(options);
    onTestFinished(() => gateway.close());
    let base = gateway.address.url;
    const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };

    const put = await fetch(`${base}/subscriptions/billing`, { method: 'PUT', headers: admin, body: JSON.stringify({ topic, url: hook, where: "kind = 'order'", from: 'earliest' }) });
    expect(put.status).toBe(200);
    const created = (await put.json()) as { secret: string; topic: string; where: string };
    secret = created.secret;
    expect(created).toMatchObject({ topic, where: "kind = 'order'" });
    expect(secret).toMatch(/^whsec_/);

    const token = await gateway.issue({ topic, scope: 'publish', subject: 'shop', ttl: 600 });
    const publish = async (events: unknown[]): Promise<Response> =>
      fetch(`${base}/topics/${topic}/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(events) });
    const batch = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({ key: `k${(from + i) % 4}`, value: { kind: (from + i) % 10 === 9 ? 'noise' : 'order', key: `k${(from + i) % 4}`, seq: from + i } }));

    const first = await publish(batch(0, 60));
    expect(first.status).toBe(201);
    const { results } = (await first.json()) as { results: { partition: number; offset: number }[] };
    expect(results).toHaveLength(60);
    for (const r of results) expect(r.partition).toBeGreaterThanOrEqual(0);
    const wanted = (n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 !== 9);
    await until(() => new Set(got.map((g) => g.seq)).size >= 20, 'some deliveries before the restart');

    // A revocation is stored too: the token stays refused after the restart.
    const revoked = await gateway.issue({ topic, scope: 'read', subject: 'former-partner', ttl: 600 });
    await gateway.revoke(JSON.parse(Buffer.from(revoked.split('.')[1]!, 'base64url').toString()).jti);

    // Restart: the subscription is stored, its group resumes from its committed offsets.
    await gateway.close();
    gateway = await startGateway(options);
    base = gateway.address.url;
    const listed = await fetch(`${base}/subscriptions/billing`, { headers: admin });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject({ name: 'billing', topic, url: hook });
    expect((await publish(batch(60, 100))).status).toBe(201);
    expect((await fetch(`${base}/topics/${topic}/stream`, { headers: { authorization: `Bearer ${revoked}` } })).status).toBe(401);

    await until(() => new Set(got.map((g) => g.seq)).size === wanted(100).length, 'every order delivered');
    expect([...new Set(got.map((g) => g.seq))].sort((a, b) => a - b)).toEqual(wanted(100));
    expect(got.some((g) => g.seq % 10 === 9)).toBe(false); // filtered out by `where`
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const seqs = got.filter((g) => g.key === key).map((g) => g.seq);
      const firstSeen = seqs.filter((s, i) => seqs.indexOf(s) === i);
      expect(firstSeen, `order of ${key}`).toEqual([...firstSeen].sort((a, b) => a - b));
    }
    // Every webhook-id is <topic>:<partition>:<offset>, the same on a redelivery.
    for (const g of got) expect(g.id).toMatch(new RegExp(`^${topic}:\\d+:\\d+$`));

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/snoopy_gateway_deliveries\{subscription="billing",status="204"\} \d+/);
    expect(metrics).toContain('snoopy_gateway_publishes_total');

    expect((await fetch(`${base}/subscriptions/billing`, { method: 'DELETE', headers: admin })).status).toBe(200);
    expect((await fetch(`${base}/subscriptions/billing`, { headers: admin })).status).toBe(404);
    expect((await fetch(`${base}/subscriptions/billing`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  test('deliveries that fail for good go to the dead-letter topic with status and code', { timeout: 120_000 }, async () => {
    const topic = randomName('gw-dlq-in');
    const dlq = randomName('gw-dlq');
    const dir = await tempDir();
    onTestFinished(() => dir.remove());
    const gone = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(410).end('unsubscribed'));
    });
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => (gone.closeAllConnections(), gone.close(() => r()))));
    const gateway = await startGateway(gatewayOptions(servers!, { [topic]: { partitions: 1 } }, dir.path, { deadLetterTopic: dlq }));
    onTestFinished(() => gateway.close());
    await gateway.subscribe('leaver', topic).webhook(`http://127.0.0.1:${(gone.address() as AddressInfo).port}/hook`, { from: 'earliest' });
    const pub = gateway.publisher(topic);
    for (let i = 0; i < 3; i++) await pub.send({ i }, { key: `k${i}` });

    await using letters = Topic<{ subscription: string; attempts: number; cause: { code: string; status: number; body: string } }>(dlq, { 'bootstrap.servers': servers!, 'group.id': randomName('dlq-reader') }, { offset: 'earliest' });
    const got: { subscription: string; cause: { code: string; status: number; body: string } }[] = [];
    const it = letters[Symbol.asyncIterator]();
    try {
      const deadline = Date.now() + 60_000;
      while (got.length < 3) {
        if (Date.now() > deadline) throw new Error(`only ${got.length} dead letters in 60 s`);
        const r = await it.next();
        if (r.done) break;
        got.push(r.value.value);
        letters[ack](r.value);
      }
    } finally {
      await it.return?.();
    }
    expect(got).toHaveLength(3);
    for (const g of got) expect(g).toMatchObject({ subscription: 'leaver', cause: { code: 'SNOOPY_HTTP_GONE', status: 410, body: 'unsubscribed' } });
    expect(gateway.subscriptions.get('leaver')!.stats).toMatchObject({ deadLettered: 3, disabled: true });
  });
});
