import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cache } from '@snoopy/cache';
import { Registry, setRootLogger } from '@snoopy/core';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { generateSecret, secretKey, sign, webhook, webhookSource, type WebhookEvent, type WebhookSource } from '../src/index.js';
import { until } from './receiver.js';

beforeAll(() => setRootLogger(pino({ level: 'silent' })));

const toClose: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c.close();
});

const secret = generateSecret();

async function source<T = unknown>(options: Partial<Parameters<typeof webhookSource>[0]> = {}): Promise<{ src: WebhookSource<T>; url: string }> {
  const src = webhookSource<T>({ secrets: [secret], path: '/in', ...options } as never);
  toClose.push(src);
  const { url } = await src.listen();
  return { src, url };
}

interface Post {
  id?: string;
  ts?: string | number;
  body?: string;
  signature?: string;
  method?: string;
  path?: string;
  signWith?: string;
}

async function post(url: string, p: Post = {}): Promise<Response> {
  const id = p.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  const ts = p.ts ?? Math.floor(Date.now() / 1000);
  const body = p.body ?? '{"hello":"world"}';
  const signature = p.signature ?? sign([secretKey(p.signWith ?? secret)], id, Number(ts), body);
  const target = p.path ? new URL(p.path, url).href : url;
  return fetch(target, {
    method: p.method ?? 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature },
    body: p.method === 'GET' ? undefined : body,
  });
}

/** Consumes the source by hand, acknowledging each event after `work`. */
function consume<T>(src: WebhookSource<T>, work: (e: WebhookEvent<T>) => Promise<void> | void = () => {}): { seen: WebhookEvent<T>[]; done: Promise<void> } {
  const seen: WebhookEvent<T>[] = [];
  const done = (async () => {
    for await (const e of src) {
      seen.push(e);
      await work(e);
      src[Symbol.for('snoopy.ack') as never as typeof import('@snoopy/core').ack](e);
    }
  })();
  return { seen, done };
}

describe('webhook source', () => {
  test('accepts what the reference library signs; answers 204 only after the snap finished', async () => {
    const { src, url } = await source<{ n: number }>();
    const registry = new Registry();
    const handled: number[] = [];
    const sunk: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    registry.snap(src, {
      sink: async (v: number) => {
        await gate;
        sunk.push(v);
      },
    })((e: WebhookEvent<{ n: number }>) => {
      handled.push(e.value.n);
      return e.value.n;
    });
    const streaming = registry.stream({ handleSignals: false, progress: false, logger: pino({ level: 'silent' }) });
    const wh = new Webhook(secret);
    const body = JSON.stringify({ n: 5 });
    const now = new Date();
    let answered = false;
    const res = fetch(url, {
      method: 'POST',
      headers: { 'webhook-id': 'msg_ref', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': wh.sign('msg_ref', now, body) },
      body,
    }).then((r) => ((answered = true), r));
    await until(() => handled.length === 1, 'the handler');
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false); // the sink has not finished: no answer yet
    release();
    expect((await res).status).toBe(204);
    expect(sunk).toEqual([5]);
    await src.close();
    await streaming;
  });

  test('refusals: forged 401, altered 401, replayed old 401, future 401, NaN 401, missing 401, 400, 413, 405, 404', async () => {
    const { src, url } = await source({ maxBodyBytes: 1000, toleranceSec: 60 });
    const { seen } = consume(src);
    const now = Math.floor(Date.now() / 1000);
    expect((await post(url, { signWith: generateSecret() })).status).toBe(401);
    const id = 'msg_alter';
    const sig = sign([secretKey(secret)], id, now, '{"amount":1}');
    expect((await post(url, { id, ts: now, signature: sig, body: '{"amount":1000}' })).status).toBe(401);
    expect((await post(url, { ts: now - 3600 })).status).toBe(401);
    expect((await post(url, { ts: now + 3600 })).status).toBe(401);
    expect((await post(url, { ts: 'NaN', signature: 'v1,AAAA' })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await post(url, { body: '{not json' })).status).toBe(400);
    expect((await post(url, { body: JSON.stringify({ big: 'x'.repeat(2000) }) })).status).toBe(413);
    expect((await post(url, { method: 'GET' })).status).toBe(405);
    expect((await post(url, { path: '/elsewhere' })).status).toBe(404);
    const res = await post(url, { ts: now - 3600 });
    const text = await res.text();
    expect(text).not.toMatch(/at .*\.ts|Error:/);
    expect(seen).toHaveLength(0);
    expect((await post(url, { body: '{"ok":1}' })).status).toBe(204);
    await until(() => seen.length === 1, 'the good one');
  });

  test('rotated secrets: old and new are accepted, a retired one is not', async () => {
    const older = generateSecret();
    const retired = generateSecret();
    const { src, url } = await source({ secrets: [secret, older] });
    consume(src);
    expect((await post(url, { signWith: secret })).status).toBe(204);
    expect((await post(url, { signWith: older })).status).toBe(204);
    expect((await post(url, { signWith: retired })).status).toBe(401);
  });

  test('an id already processed is answered 2xx at once and not processed again', async () => {
    const { src, url } = await source();
    const { seen } = consume(src);
    expect((await post(url, { id: 'msg_dup' })).status).toBe(204);
    expect((await post(url, { id: 'msg_dup' })).status).toBe(204);
    expect((await post(url, { id: 'msg_dup', ts: Math.floor(Date.now() / 1000) - 10 })).status).toBe(204);
    expect(seen.map((e) => e.id)).toEqual(['msg_dup']);
    expect(src.stats.duplicates).toBe(2);
  });

  test('the dedupe window can live in a @snoopy/cache Cache and survive a restart of the source', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snoopy-http-dedupe-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    {
      const cache = await Cache.open<unknown>(dir);
      const { src, url } = await source({ dedupe: cache as never });
      const { seen } = consume(src);
      expect((await post(url, { id: 'msg_persist' })).status).toBe(204);
      expect(seen).toHaveLength(1);
      await src.close();
      toClose.length = 0;
      await cache.close();
    }
    const cache = await Cache.open<unknown>(dir);
    onTestFinished(() => cache.close());
    const { src, url } = await source({ dedupe: cache as never });
    const { seen } = consume(src);
    expect((await post(url, { id: 'msg_persist' })).status).toBe(204);
    expect((await post(url, { id: 'msg_new' })).status).toBe(204);
    expect(seen.map((e) => e.id)).toEqual(['msg_new']);
  });

  test('a message not processed within ackTimeoutMs gets 503 with Retry-After; the retry after it finished gets 204 without reprocessing', async () => {
    const { src, url } = await source({ ackTimeoutMs: 200 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { seen } = consume(src, () => gate);
    const first = await post(url, { id: 'msg_slow' });
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('1');
    release();
    await until(() => src.stats.acknowledged === 1, 'the acknowledgement');
    expect((await post(url, { id: 'msg_slow' })).status).toBe(204);
    expect(seen).toHaveLength(1);
  });

  test('a failed message is never answered 2xx: with errors "stop" the stream stops and the request gets 503', async () => {
    // Answered 503 when the stream disposes the source, at the latest after ackTimeoutMs.
    const { src, url } = await source({ ackTimeoutMs: 2000 });
    const registry = new Registry();
    registry.snap(src)(() => {
      throw new Error('handler failed');
    });
    const streaming = registry.stream({ handleSignals: false, progress: false, logger: pino({ level: 'silent' }) }).catch((e: unknown) => e);
    const res = await post(url, { id: 'msg_fails' });
    expect(res.status).toBe(503);
    expect(await streaming).toMatchObject({ code: 'SNOOPY_SNAP_HANDLER' });
  });

  test('close() stops accepting, finishes in-flight requests, then ends the iterable', async () => {
    const { src, url } = await source();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { seen, done } = consume(src, () => gate);
    const inflight = post(url, { id: 'msg_inflight' });
    await until(() => seen.length === 1, 'the in-flight message');
    const closing = src.close();
    await new Promise((r) => setTimeout(r, 50));
    await expect(post(url)).rejects.toThrow(); // no longer listening
    release();
    expect((await inflight).status).toBe(204);
    await closing;
    await done; // the iterable ended
    await src.close(); // idempotent
    expect(() => src[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
  });

  test('an early break ends the iterable: messages never handed out are answered 503, handed-out ones still get their ack', async () => {
    const { src, url } = await source();
    const it = src[Symbol.asyncIterator]();
    const first = post(url, { id: 'msg_first' });
    const got = await it.next();
    const second = post(url, { id: 'msg_second' });
    await until(() => src.stats.accepted === 2, 'the second request');
    await it.return!(); // what a for-await break does
    expect((await second).status).toBe(503);
    expect((await second).headers.get('retry-after')).toBe('5');
    src[Symbol.for('snoopy.ack') as never as typeof import('@snoopy/core').ack](got.value);
    expect((await first).status).toBe(204);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  test('webhook sink to webhook source, end to end, signed with the same secret', async () => {
    const { src, url } = await source<{ i: number }>();
    const { seen } = consume(src);
    await using sink = webhook(url, { secrets: [secret], allowPrivate: true, concurrency: 4 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => sink.send({ i })));
    expect(seen.map((e) => e.value.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  test('bad options fail at construction', () => {
    expect(() => webhookSource({ secrets: [] })).toThrow(/Expected `secrets` to be a non-empty array/);
    expect(() => webhookSource({ secrets: [secret], port: -1 })).toThrow('Expected `port` to be an integer >= 0, got `-1` (number)');
    expect(() => webhookSource({ secrets: [secret], tolerance: 5 } as never)).toThrow(/Expected `tolerance` to be absent \(known options:/);
    expect(() => webhookSource({ secrets: [secret], path: 'in' })).toThrow(/starting with `\/`/);
  });
});
