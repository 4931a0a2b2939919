import { DeadLetter, Registry, setRootLogger } from '@snoopy/core';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { backoffDelay, generateSecret, parseRetryAfter, webhook, type HttpError } from '../src/index.js';
import { startReceiver, until, type Receiver } from './receiver.js';

beforeAll(() => setRootLogger(pino({ level: 'silent' })));

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of open.splice(0).reverse()) await r.close();
});

async function receiver(reply?: Receiver['reply']): Promise<Receiver> {
  const r = await startReceiver(reply);
  open.push(r);
  return r;
}

function run(registry: Registry) {
  return registry.stream({ handleSignals: false, progress: false, logger: pino({ level: 'silent' }) });
}

const fast = { attempts: 4, baseMs: 5, maxMs: 20 };

describe('webhook sink', () => {
  test('the reference library verifies every delivery; id stable across retries, timestamp per attempt', async () => {
    const secret = generateSecret();
    const r = await receiver((_, i) => ({ status: i === 0 ? 500 : 200 }));
    const registry = new Registry();
    const sink = webhook(r.url, { secrets: [secret], allowPrivate: true, retry: fast, headers: { 'x-tenant': 't1' } });
    registry.snap([{ n: 1 }], { sink })((v: { n: number }) => v);
    await run(registry);
    expect(r.requests).toHaveLength(2);
    const wh = new Webhook(secret);
    for (const req of r.requests) {
      expect(wh.verify(req.body, req.headers as Record<string, string>)).toEqual({ n: 1 });
      expect(req.headers['x-tenant']).toBe('t1');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.method).toBe('POST');
    }
    expect(r.requests[0]!.headers['webhook-id']).toBe(r.requests[1]!.headers['webhook-id']);
    expect(sink.stats).toMatchObject({ delivered: 1, attempts: 2, retries: 1, failed: 0 });
  });

  test('two secrets while rotating: either one verifies; PUT', async () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const r = await receiver();
    await using sink = webhook(r.url, { secrets: [a, b], allowPrivate: true, method: 'PUT' });
    await sink.send({ x: 1 });
    const req = r.requests[0]!;
    expect(req.method).toBe('PUT');
    expect((req.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    expect(new Webhook(a).verify(req.body, req.headers as Record<string, string>)).toEqual({ x: 1 });
    expect(new Webhook(b).verify(req.body, req.headers as Record<string, string>)).toEqual({ x: 1 });
  });

  test('a Kafka-shaped message is delivered as its value, with id <topic>:<partition>:<offset>', async () => {
    const r = await receiver();
    await using sink = webhook(r.url, { allowPrivate: true });
    await sink.send({ topic: 'orders', partition: 2, offset: 41, key: 'k', value: { id: 7 }, headers: {}, timestamp: 0 });
    expect(r.requests[0]!.headers['webhook-id']).toBe('orders:2:41');
    expect(JSON.parse(r.requests[0]!.body)).toEqual({ id: 7 });
  });

  test('the retry ladder: full jitter under an exponential cap, Retry-After as a floor', () => {
    const retry = { baseMs: 1000, maxMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => backoffDelay(a, retry, undefined, () => 0.999999))).toEqual([999, 1999, 3999, 7999, 15999, 31999, 59999, 59999]);
    expect(backoffDelay(3, retry, undefined, () => 0)).toBe(0);
    expect(backoffDelay(1, retry, 5000, () => 0.5)).toBe(5000);
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(50_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  test('after the last attempt the message goes to the dead letter with status, body excerpt and attempts', async () => {
    const r = await receiver(() => ({ status: 500, body: 'database is down '.repeat(100) }));
    const dead: DeadLetter[] = [];
    const registry = new Registry();
    const sink = webhook(r.url, { allowPrivate: true, retry: fast });
    const acked: number[] = [];
    registry.snap([{ n: 1 }, { n: 2 }], { sink, errors: { deadLetter: (d: DeadLetter) => void dead.push(d) } })((v: { n: number }) => {
      acked.push(v.n);
      return v;
    });
    const summary = await run(registry);
    expect(r.requests).toHaveLength(8);
    expect(dead).toHaveLength(2);
    const cause = dead[0]!.error.cause as HttpError;
    expect(cause.code).toBe('SNOOPY_HTTP_DELIVERY');
    expect(cause).toMatchObject({ status: 500, attempts: 4 });
    expect(cause.body!.length).toBe(512);
    expect(cause.body!.startsWith('database is down')).toBe(true);
    expect(summary.snaps[Object.keys(summary.snaps)[0]!]!.deadLettered).toBe(2);
  });

  test('410 Gone disables the endpoint: the rest go to the dead letter with status 410, no more requests', async () => {
    const r = await receiver(() => ({ status: 410 }));
    const dead: DeadLetter[] = [];
    const registry = new Registry();
    const sink = webhook(r.url, { allowPrivate: true, retry: fast, concurrency: 1 });
    registry.snap([1, 2, 3, 4, 5].map((n) => ({ n })), { sink, errors: { deadLetter: (d: DeadLetter) => void dead.push(d) } })((v: { n: number }) => v);
    await run(registry);
    expect(r.requests).toHaveLength(1);
    expect(dead).toHaveLength(5);
    for (const d of dead) expect(d.error.cause).toMatchObject({ code: 'SNOOPY_HTTP_GONE', status: 410 });
    expect(sink.stats.disabled).toBe(true);
  });

  test('429 with Retry-After: the next attempt waits at least that long', async () => {
    const r = await receiver((_, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    await using sink = webhook(r.url, { allowPrivate: true, retry: { attempts: 3, baseMs: 1, maxMs: 1 } });
    await sink.send({ a: 1 });
    expect(r.requests).toHaveLength(2);
    expect(r.requests[1]!.at - r.requests[0]!.at).toBeGreaterThanOrEqual(990);
  });

  test('an attempt that exceeds timeoutMs is retried; the stalled response does not count', async () => {
    const r = await receiver((_, i) => (i === 0 ? { status: 200, hang: true } : { status: 200 }));
    await using sink = webhook(r.url, { allowPrivate: true, timeoutMs: 200, retry: fast });
    await sink.send({ a: 1 });
    expect(r.requests).toHaveLength(2);
    expect(sink.stats.byStatus['0']).toBe(1);
    expect(sink.stats.byStatus['200']).toBe(1);
  });

  test('timeouts on every attempt end in SNOOPY_HTTP_DELIVERY caused by SNOOPY_TIMEOUT', async () => {
    const r = await receiver(() => ({ status: 200, hang: true }));
    await using sink = webhook(r.url, { allowPrivate: true, timeoutMs: 100, retry: { attempts: 2, baseMs: 1, maxMs: 1 } });
    const e = (await sink.send({ a: 1 }).catch((x: unknown) => x)) as HttpError;
    expect(e.code).toBe('SNOOPY_HTTP_DELIVERY');
    expect((e.cause as HttpError).code).toBe('SNOOPY_TIMEOUT');
    expect(e.attempts).toBe(2);
  });

  test('a receiver that is down and comes back: nothing lost, nothing acknowledged before its 2xx', async () => {
    const first = await startReceiver();
    const port = first.port;
    await first.close();
    const registry = new Registry();
    const sink = webhook(`http://127.0.0.1:${port}/hook`, { allowPrivate: true, retry: { attempts: 1000, baseMs: 20, maxMs: 100 }, concurrency: 4 });
    const acked: number[] = [];
    const source = {
      items: Array.from({ length: 20 }, (_, n) => ({ n })),
      *[Symbol.iterator]() {
        yield* this.items;
      },
      [Symbol.for('snoopy.ack')](item: { n: number }) {
        acked.push(item.n);
      },
    };
    registry.snap(source, { sink, concurrency: 4 })((v: { n: number }) => v);
    const done = run(registry);
    await until(() => sink.stats.attempts >= 20, 'attempts against the closed port');
    expect(acked).toEqual([]);
    const back = await startReceiver(undefined, port);
    open.push(back);
    await done;
    expect(acked.sort((a, b) => a - b)).toEqual(source.items.map((i) => i.n));
    const got = new Set(back.requests.map((q) => JSON.parse(q.body).n));
    expect(got.size).toBe(20);
  });

  test('per-key order: one key is sequential even with retries; keys run concurrently', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const r = await receiver(async (req, i) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((res) => setTimeout(res, 30)); // long enough for other keys' requests to overlap
      inFlight--;
      return { status: i % 7 === 3 ? 503 : 200 };
    });
    await using sink = webhook<{ key: string; seq: number }>(r.url, { allowPrivate: true, concurrency: 8, key: (v) => v.key, retry: { attempts: 10, baseMs: 5, maxMs: 20 } });
    const sends: Promise<void>[] = [];
    for (let seq = 0; seq < 30; seq++) for (const key of ['a', 'b', 'c', 'd']) sends.push(sink.send({ key, seq }));
    await Promise.all(sends);
    for (const key of ['a', 'b', 'c', 'd']) {
      const seen = r.requests.map((q) => JSON.parse(q.body)).filter((v) => v.key === key).map((v) => v.seq);
      const firstSeen = seen.filter((s, i) => seen.indexOf(s) === i);
      expect(firstSeen).toEqual(Array.from({ length: 30 }, (_, i) => i));
      // a retry repeats the same seq before the next one starts
      for (let i = 1; i < seen.length; i++) expect(seen[i]! >= seen[i - 1]!).toBe(true);
    }
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(4);
  });

  test('send() accepts a signal: aborting stops the wait, not the delivery', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const r = await receiver(async () => {
      await gate;
      return { status: 204 };
    });
    await using sink = webhook(r.url, { allowPrivate: true });
    const abort = new AbortController();
    const sending = sink.send({ a: 1 }, { signal: abort.signal });
    await until(() => r.requests.length === 1, 'the request');
    abort.abort();
    await expect(sending).rejects.toMatchObject({ code: 'SNOOPY_ABORTED' });
    release();
    await until(() => sink.stats.delivered === 1, 'the delivery to finish anyway');
    await expect(sink.send({ b: 2 }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'SNOOPY_ABORTED' });
  });

  test('connections are kept alive and reused', async () => {
    const r = await receiver();
    await using sink = webhook(r.url, { allowPrivate: true, concurrency: 2 });
    for (let i = 0; i < 20; i++) await sink.send({ i });
    const server = r as unknown as { requests: { headers: Record<string, string> }[] };
    expect(server.requests.every((q) => q.headers.connection === 'keep-alive')).toBe(true);
  });

  test('bad options fail at construction; use after close fails with SNOOPY_CLOSED', async () => {
    expect(() => webhook('http://example.com/', { concurrency: 0 })).toThrow('Expected `concurrency` to be an integer >= 1, got `0` (number)');
    expect(() => webhook('http://example.com/', { retry: { attempts: 1, tries: 2 } as never })).toThrow(/Expected `tries` to be absent/);
    expect(() => webhook('http://example.com/', { secret: 'x' } as never)).toThrow(/Expected `secret` to be absent \(known options: secrets/);
    expect(() => webhook('http://example.com/', { method: 'GET' as never })).toThrow("Expected `method` to be 'POST' or 'PUT', got `\"GET\"` (string)");
    expect(() => webhook('http://example.com/', { headers: { 'webhook-id': 'x' } })).toThrow(/webhook-\* headers are set by the sink/);
    const sink = webhook('http://example.com/');
    await Promise.all([sink.close(), sink.close()]);
    await expect(sink.send(1)).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
  });
});
