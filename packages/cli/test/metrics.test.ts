// metrics(): /metrics scraped over HTTP, /healthz, with snaps over arrays and over the real broker.
import { Registry, SnoopyError, ack, type SnapContext } from '@snoopy/core';
import { Topic } from '@snoopy/kafka';
import { describe, expect, it, onTestFinished } from 'vitest';
import { metrics } from '@snoopy/cli';
import { bootstrapServers, randomName } from '../../../test/setup/kafka-helpers.js';

const servers = bootstrapServers();

/** Samples of a Prometheus text exposition: `name{labels}` -> value. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return parse(await res.text());
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('metrics', () => {
  it('counts messages in, out and errors by code, and handler latency, served on /metrics', async () => {
    const m = metrics({ port: 0 });
    onTestFinished(() => m.close());
    const url = await m.listen();
    const registry = new Registry();
    const contexts: string[] = [];
    registry.snap([1, 2, 3, 4, 5], { name: 'double', sink: [() => {}], errors: 'skip' })(
      m.snap('double', (n: number, ctx: SnapContext) => {
        contexts.push(ctx.snap);
        if (n === 4) throw new SnoopyError('SNOOPY_SNAP_HANDLER', 'four');
        return n === 5 ? undefined : n * 2;
      }),
    );
    registry.snap([1, 2], { sink: [() => {}] })(m.snap('gen', function* (n: number) { yield n; yield n; }));
    registry.snap([1], { sink: [() => {}], errors: 'skip' })(m.snap('async', async () => { throw new Error('no code'); }));
    await registry.stream({ handleSignals: false, progress: false });

    expect(contexts).toHaveLength(5); // the wrapper kept the handler's two parameters
    const s = await scrape(url);
    expect(s.get('snoopy_messages_in_total{snap="double"}')).toBe(5);
    expect(s.get('snoopy_messages_out_total{snap="double"}')).toBe(3);
    expect(s.get('snoopy_errors_total{snap="double",code="SNOOPY_SNAP_HANDLER"}')).toBe(1);
    expect(s.get('snoopy_handler_duration_seconds_count{snap="double"}')).toBe(5);
    expect(s.get('snoopy_handler_duration_seconds_bucket{snap="double",le="+Inf"}')).toBe(5);
    expect(s.get('snoopy_handler_duration_seconds_bucket{snap="double",le="5"}')).toBe(5);
    expect(s.get('snoopy_messages_out_total{snap="gen"}')).toBe(4);
    expect(s.get('snoopy_errors_total{snap="async",code="UNCODED"}')).toBe(1);

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('refuses bad options, closes idempotently and fails with SNOOPY_CLOSED after', async () => {
    expect(() => metrics({ prot: 1 } as never)).toThrow(/Unknown option `prot`/);
    expect(() => metrics({ port: -1 })).toThrow('metrics: Expected `port` to be an integer from 0 to 65535, got `-1` (number)');
    expect(() => metrics({ buckets: [1, 0.5] })).toThrow(/Expected `buckets` to be increasing/);
    const m = metrics({ port: 0 });
    await m.listen();
    await Promise.all([m.close(), m.close()]);
    await m[Symbol.asyncDispose]();
    await expect(m.text()).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
    expect(() => m.snap('x', () => 1)).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
  });

  describe.skipIf(!servers)('with Kafka', () => {
    it('reports producer and consumer counters and consumer lag per partition', async () => {
      const name = randomName('metrics');
      const group = randomName('metrics-group');
      const producer = Topic<number>(name, { 'bootstrap.servers': servers! });
      onTestFinished(() => producer.close());
      await producer.create({ partitions: 2 });
      for (let i = 0; i < 10; i++) await producer.send(i, { partition: i % 2 });

      const m = metrics({ port: 0, brokers: servers! });
      onTestFinished(() => m.close());
      const url = await m.listen();
      m.topic(producer);
      const consumer = Topic<number>(name, { 'bootstrap.servers': servers!, 'group.id': group }, { offset: 'earliest', commitIntervalMs: 100 });
      onTestFinished(() => consumer.close());
      m.topic(consumer, { group });

      const before = await scrape(url);
      expect(before.get(`snoopy_kafka_produced_total{topic="${name}"}`)).toBe(10);
      expect(before.get(`snoopy_kafka_delivered_total{topic="${name}"}`)).toBe(10);
      expect(before.get(`snoopy_kafka_producer_queue{topic="${name}"}`)).toBe(0);
      expect(before.get(`snoopy_consumer_lag{topic="${name}",group="${group}",partition="0"}`)).toBe(5);
      expect(before.get(`snoopy_consumer_lag{topic="${name}",group="${group}",partition="1"}`)).toBe(5);

      const done = new AbortController();
      let seen = 0;
      const registry = new Registry();
      registry.snap(consumer, { name: 'count' })(m.snap('count', () => { if (++seen === 10) done.abort(); }));
      await registry.stream({ signal: done.signal, handleSignals: false, progress: false });

      await until('lag 0 on both partitions', async () => {
        const s = await scrape(url);
        const lags = [0, 1].map((p) => s.get(`snoopy_consumer_lag{topic="${name}",group="${group}",partition="${p}"}`));
        return lags.every((l) => l === 0) ? s : undefined;
      });
      const after = await scrape(url);
      expect(after.get('snoopy_messages_in_total{snap="count"}')).toBe(10);
      expect(after.get(`snoopy_kafka_acked_total{topic="${name}"}`)).toBe(10);
      expect(after.get(`snoopy_kafka_commits_total{topic="${name}"}`)).toBeGreaterThan(0);
    });

    it('/healthz fails while a consumer has lag and acknowledges nothing, and recovers when it does', async () => {
      const name = randomName('health');
      const group = randomName('health-group');
      const topic = Topic<number>(name, { 'bootstrap.servers': servers!, 'group.id': group }, { offset: 'earliest', commitIntervalMs: 100 });
      onTestFinished(() => topic.close());
      await topic.create({ partitions: 1 });
      await topic(1);
      await topic(2);

      const m = metrics({ port: 0, brokers: servers!, stallMs: 300 });
      onTestFinished(() => m.close());
      const url = await m.listen();
      m.topic(topic, { group });

      const sick = await until('a 503 from /healthz', async () => {
        const res = await fetch(`${url}/healthz`);
        return res.status === 503 ? res.text() : undefined;
      });
      expect(sick).toContain(`${name} (group ${group}): lag 2 and nothing acknowledged for`);

      for await (const msg of topic) {
        topic[ack](msg);
        break;
      }
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok\n');
    });
  });
});
