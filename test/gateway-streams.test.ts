// Authorized filtered streams: two third parties with different grants on one topic each see
// exactly their messages; Last-Event-ID resumes with no gap and no duplicate; revocation closes a
// stream; refused tokens; client filters are ANDed; publish forms and refusals.
import { rootLogger } from '@snoopy/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Gateway } from '../packages/http/src/index.js';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { gatewayOptions, openStream, startGateway, tempDir, until } from './gateway-helpers.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('gateway streams', () => {
  const topic = randomName('gw-events');
  let gateway: Gateway;
  let base: string;
  let remove: () => Promise<void>;
  let publishToken: string;
  let seq = 0;

  beforeAll(async () => {
    rootLogger().level = 'warn';
    const dir = await tempDir();
    remove = dir.remove;
    gateway = await startGateway(gatewayOptions(servers!, { [topic]: { partitions: 2 }, [`${topic}-private`]: { publish: false, read: false } }, dir.path));
    base = gateway.address.url;
    publishToken = await gateway.issue({ topic, scope: 'publish', subject: 'producer', ttl: 600 });
  }, 120_000);
  afterAll(async () => {
    await gateway?.close();
    await remove?.();
  });

  async function publish(n: number, shape: (i: number) => Record<string, unknown>): Promise<number[]> {
    const events = Array.from({ length: n }, () => {
      const i = seq++;
      return { key: `k${i % 3}`, value: { seq: i, ...shape(i) } };
    });
    const res = await fetch(`${base}/topics/${topic}/events`, { method: 'POST', headers: { authorization: `Bearer ${publishToken}`, 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(res.status).toBe(201);
    return events.map((e) => e.value.seq as number);
  }

  const seqs = (s: ReturnType<typeof openStream>) => s.messages().map((e) => (e.data.value as { seq: number }).seq).sort((a, b) => a - b);
  const shape = (i: number) => ({ tenant: i % 2 ? 'acme' : 'globex', amount: i * 10 });

  test('two grants with different filters each see exactly their messages (SSE and NDJSON)', async () => {
    const acme = await gateway.issue({ topic, scope: 'read', subject: 'acme', where: 'tenant = :t', params: { t: 'acme' }, ttl: 600 });
    const big = await gateway.issue({ topic, scope: 'read', subject: 'auditor', where: 'amount >= 200', ttl: 600 });
    const a = openStream(`${base}/topics/${topic}/stream?from=earliest`, { authorization: `Bearer ${acme}` });
    const b = openStream(`${base}/topics/${topic}/stream?from=earliest`, { authorization: `Bearer ${big}`, accept: 'application/x-ndjson' });
    // A client `where` narrows (AND), it cannot widen (no OR with the grant's filter).
    const c = openStream(`${base}/topics/${topic}/stream?from=earliest&where=${encodeURIComponent("amount < 100 OR tenant = 'globex'")}`, { authorization: `Bearer ${acme}` });
    try {
      const sent = await publish(40, shape);
      const wantA = sent.filter((i) => i % 2 === 1);
      const wantB = sent.filter((i) => i * 10 >= 200);
      const wantC = sent.filter((i) => i % 2 === 1 && i * 10 < 100);
      await until(() => a.messages().length >= wantA.length && b.messages().length >= wantB.length && c.messages().length >= wantC.length, 'the filtered streams');
      await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
      expect(seqs(a)).toEqual(wantA);
      expect(seqs(b)).toEqual(wantB);
      expect(seqs(c)).toEqual(wantC);
      expect(b.status).toBe(200);
      expect(b.messages()[0]!.id).toMatch(/^\d+,\d+$/);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test('Last-Event-ID resumes exactly after the last event: no gap, no duplicate', async () => {
    const token = await gateway.issue({ topic, scope: 'read', subject: 'resumer', where: "tenant = 'globex'", ttl: 600 });
    const first = openStream(`${base}/topics/${topic}/stream`, { authorization: `Bearer ${token}` });
    await until(() => first.events.length > 0 || first.status === 200, 'the stream to open');
    await new Promise((r) => setTimeout(r, 200));
    const before = await publish(20, shape);
    const wanted = before.filter((i) => i % 2 === 0);
    await until(() => first.messages().length >= 5, 'a few events');
    await first.close();
    const got = seqs(first);
    const lastId = first.messages().at(-1)!.id!;
    const during = await publish(20, shape); // published while disconnected
    const second = openStream(`${base}/topics/${topic}/stream`, { authorization: `Bearer ${token}`, 'last-event-id': lastId });
    try {
      const after = await publish(10, shape);
      const all = [...wanted, ...during.filter((i) => i % 2 === 0), ...after.filter((i) => i % 2 === 0)];
      const missing = all.filter((i) => !got.includes(i));
      await until(() => second.messages().length >= missing.length, 'the resumed stream');
      await new Promise((r) => setTimeout(r, 300));
      const resumed = seqs(second);
      expect(resumed).toEqual(missing); // no gap
      expect(resumed.filter((i) => got.includes(i))).toEqual([]); // no duplicate
    } finally {
      await second.close();
    }
  });

  test('revocation closes an open stream with a revoked event; the token is refused afterwards', async () => {
    const token = await gateway.issue({ topic, scope: 'read', subject: 'revokee', ttl: 600 });
    const s = openStream(`${base}/topics/${topic}/stream`, { authorization: `Bearer ${token}` });
    await until(() => s.status === 200, 'the stream to open');
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    await gateway.revoke(jti);
    await until(() => s.ended, 'the stream to end');
    expect(s.events.at(-1)).toMatchObject({ event: 'revoked' });
    const again = openStream(`${base}/topics/${topic}/stream`, { authorization: `Bearer ${token}` });
    await again.done;
    expect(again.status).toBe(401);
  });

  test('refused: missing, forged and wrong-scope tokens, other topics, bad filters, parameters cannot inject', async () => {
    const read = await gateway.issue({ topic, scope: 'read', subject: 'r', ttl: 600 });
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers }).then(async (r) => ({ status: r.status, body: await r.text() }));
    expect((await get(`/topics/${topic}/stream`)).status).toBe(401);
    expect((await get(`/topics/${topic}/stream`, { authorization: `Bearer ${read.slice(0, -4)}AAAA` })).status).toBe(401);
    expect((await get(`/topics/${topic}/stream`, { authorization: `Bearer ${publishToken}` })).status).toBe(403);
    expect((await get(`/topics/${topic}-private/stream`, { authorization: `Bearer ${read}` })).status).toBe(404);
    const other = await gateway.issue({ topic: `${topic}-other`, scope: 'read', subject: 'r', ttl: 600 });
    expect((await get(`/topics/${topic}/stream`, { authorization: `Bearer ${other}` })).status).toBe(403);
    const bad = await get(`/topics/${topic}/stream?where=${encodeURIComponent('amount > 1; --')}`, { authorization: `Bearer ${read}` });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ code: 'SNOOPY_HTTP_FILTER', position: 10 });
    expect((await get(`/topics/${topic}/stream`, { authorization: `Bearer ${read}`, 'last-event-id': 'garbage' })).status).toBe(400);
    expect((await get('/topics/%E0%A4%A/stream')).status).toBe(400); // malformed path: an answer, not a crash
    expect((await get('/elsewhere')).status).toBe(404);
    await expect(gateway.issue({ topic, scope: 'read', subject: 'x', where: 'tenant = ', ttl: 60 })).rejects.toMatchObject({ code: 'SNOOPY_HTTP_FILTER' });

    // A parameter that tries to inject syntax is a literal value: it matches nothing.
    const injected = await gateway.issue({ topic, scope: 'read', subject: 'i', where: 'tenant = :t', params: { t: "acme' OR '1'='1" }, ttl: 600 });
    const s = openStream(`${base}/topics/${topic}/stream`, { authorization: `Bearer ${injected}`, accept: 'application/x-ndjson' });
    await until(() => s.status === 200, 'the stream to open');
    await new Promise((r) => setTimeout(r, 200));
    await publish(10, shape);
    await new Promise((r) => setTimeout(r, 800));
    expect(s.messages()).toEqual([]);
    await s.close();
  });

  test('publish: form body, 404 for a topic not configured, 401/403 without a publish grant, 400 for bad events', async () => {
    const form = new URLSearchParams({ topic, key: 'f1', value: JSON.stringify({ seq: 9999, tenant: 'form' }) });
    const res = await fetch(`${base}/topics/${topic}/events`, { method: 'POST', headers: { authorization: `Bearer ${publishToken}`, 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { results: unknown[] }).results).toHaveLength(1);
    const post = (path: string, body: unknown, token = publishToken) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.status);
    expect(await post(`/topics/${topic}-private/events`, { value: 1 })).toBe(404);
    expect(await post('/topics/nope/events', { value: 1 })).toBe(404);
    expect(await post(`/topics/${topic}/events`, { value: 1 }, 'x.y.z')).toBe(401);
    const read = await gateway.issue({ topic, scope: 'read', subject: 'r', ttl: 600 });
    expect(await post(`/topics/${topic}/events`, { value: 1 }, read)).toBe(403);
    expect(await post(`/topics/${topic}/events`, { nope: 1 })).toBe(400);
    expect(await post(`/topics/${topic}/events`, [{ value: 1, key: 5 }])).toBe(400);
    const pub = gateway.publisher<{ seq: number }>(topic);
    const d = await pub.send({ seq: 10_000 }, { key: 'code' });
    expect(d.offset).toBeGreaterThanOrEqual(0);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ready' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/snoopy_gateway_requests_total\{route="publish",status="201"\} \d+/);
  });

  test('graceful close ends open streams with a close event', async () => {
    const token = await gateway.issue({ topic, scope: 'read', subject: 'last', ttl: 600 });
    const s = openStream(`${base}/topics/${topic}/stream`, { authorization: `Bearer ${token}` });
    await until(() => s.status === 200, 'the stream to open');
    await gateway.close();
    await until(() => s.ended, 'the stream to end');
    expect(s.events.at(-1)).toMatchObject({ event: 'close' });
    await gateway.close(); // idempotent
  });
});
