import { FailedItem, Registry, deliver, describe as describeKey, ack, flush, rootLogger } from '@snoopy/core';
import { BytesCodec, StringCodec } from '@snoopy/codecs';
import { describe, expect, test } from 'vitest';
import { Conf, Topic, type KafkaMessage } from '../src/index.js';
import { bootstrapServers, closing, counter, randomName, take } from './helpers.js';

const servers = bootstrapServers();
const quiet = rootLogger().child({}, { level: 'silent' });

describe.skipIf(!servers)('Topic on a real broker', () => {
  const base = () => ({ 'bootstrap.servers': servers! });

  test('callable and send() resolve on the delivery report; read() returns a range', async () => {
    const name = randomName('produce');
    const topic = closing(Topic<{ n: number }>(name, base()));
    expect(await topic.create({ partitions: 1 })).toBe(true);
    expect(await topic.create({ partitions: 1 })).toBe(false);
    const d0 = await topic({ n: 0 });
    expect(d0).toMatchObject({ topic: name, partition: 0, offset: 0 });
    await topic(['k1', { n: 1 }]);
    await topic.send({ n: 2 }, { key: 'k2', headers: { h: 'v' }, partition: 0, timestamp: 1_700_000_000_000 });
    const all: Array<KafkaMessage<{ n: number }>> = [];
    for await (const m of topic.read({ partition: 0, start: 0, end: 3 })) all.push(m);
    expect(all.map((m) => m.value)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(all.map((m) => m.key)).toEqual([null, 'k1', 'k2']);
    expect(all[2]!.headers.h?.toString()).toBe('v');
    expect(all[2]!.timestamp).toBe(1_700_000_000_000);
    const middle: number[] = [];
    for await (const m of topic.read({ partition: 0, start: 1, end: 2 })) middle.push(m.value.n);
    expect(middle).toEqual([1]);
    const tail: number[] = [];
    for await (const m of topic.read({ partition: 0, start: 1 })) tail.push(m.offset);
    expect(tail).toEqual([1, 2]);
    expect(topic.stats).toMatchObject({ produced: 3, delivered: 3 });
  });

  test('consumes as a group and commits only the contiguous acknowledged prefix', async () => {
    const name = randomName('commit');
    const group = randomName('group');
    const producer = closing(Topic<number>(name, base()));
    await producer.create({ partitions: 1 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => producer(i)));

    // Acknowledge 0, 1, 2, 4, 5 only: the commit must stop at offset 3.
    const first = closing(Topic<number>(name, { ...base(), 'group.id': group }));
    const seen = await take(first, 6, (_m, i) => i !== 3);
    expect(seen.map((m) => (m as KafkaMessage<number>).value)).toEqual([0, 1, 2, 3, 4, 5]);
    await first.close();
    expect(first.stats.commits).toBeGreaterThan(0);

    const second = closing(Topic<number>(name, { ...base(), 'group.id': group }));
    const rest = await take(second, 7);
    expect(rest.map((m) => (m as KafkaMessage<number>).value)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  test('[describe] gives key, topic, partition, offset, timestamp and headers', async () => {
    const name = randomName('describe');
    const topic = closing(Topic<string>(name, { ...base(), 'group.id': randomName('g') }));
    await topic.create();
    await topic.send('v', { key: 'k', headers: { a: 'b' } });
    const [m] = await take(topic, 1);
    const meta = topic[describeKey](m);
    expect(meta).toMatchObject({ key: 'k', topic: name, partition: 0, offset: 0 });
    expect(typeof meta.timestamp).toBe('number');
    expect((meta.headers!.a as Buffer).toString()).toBe('b');
  });

  test('an early break returns the iterator: it commits and leaves the group', async () => {
    const name = randomName('break');
    const group = randomName('group');
    const topic = closing(Topic<number>(name, { ...base(), 'group.id': group }));
    await topic.create();
    await Promise.all([1, 2, 3].map((n) => topic(n)));
    let n = 0;
    for await (const m of topic) {
      topic[ack](m);
      if (++n === 2) break;
    }
    expect(topic.stats.commits).toBeGreaterThan(0);
    // The next member of the group starts after what was acknowledged, without waiting for a session timeout.
    const next = closing(Topic<number>(name, { ...base(), 'group.id': group }));
    const [third] = await take(next, 1);
    expect((third as KafkaMessage<number>).value).toBe(3);
  });

  test('undecodable messages: FailedItem with location without deadLetter', async () => {
    const name = randomName('poison');
    const raw = closing(Topic<string>(name, base(), { codec: new StringCodec() }));
    await raw.create();
    await raw('{"ok":1}');
    await raw('not json');
    const json = closing(Topic(name, { ...base(), 'group.id': randomName('g') }));
    const items = await take(json, 2);
    expect((items[0] as KafkaMessage).value).toEqual({ ok: 1 });
    const failed = items[1] as FailedItem;
    expect(failed).toBeInstanceOf(FailedItem);
    expect(failed.error).toMatchObject({ code: 'SNOOPY_CODEC_DECODE', location: { topic: name, partition: 0, offset: 1 } });
    expect((failed.raw as { value: Buffer }).value.toString()).toBe('not json');
    expect(json.stats.decodeErrors).toBe(1);
  });

  test('undecodable messages go to the dead-letter topic with error headers; consumption goes on', async () => {
    const name = randomName('poison');
    const dlqName = randomName('dlq');
    const raw = closing(Topic<string>(name, base(), { codec: new StringCodec() }));
    await raw.create();
    await raw.send('not json', { key: 'bad', headers: { origin: 'test' } });
    await raw('{"ok":2}');
    const group = randomName('g');
    const json = closing(Topic(name, { ...base(), 'group.id': group }, { deadLetter: dlqName }));
    const items = await take(json, 1);
    expect((items[0] as KafkaMessage).value).toEqual({ ok: 2 });
    await json.close();
    expect(json.stats.deadLettered).toBe(1);

    const dlq = closing(Topic<Buffer>(dlqName, { ...base(), 'group.id': randomName('g') }, { codec: new BytesCodec() }));
    const [dead] = (await take(dlq, 1)) as Array<KafkaMessage<Buffer>>;
    expect(dead!.value.toString()).toBe('not json');
    expect(dead!.key).toBe('bad');
    const h = Object.fromEntries(Object.entries(dead!.headers).map(([k, v]) => [k, v.toString()]));
    expect(h).toMatchObject({
      origin: 'test',
      'snoopy.error.code': 'SNOOPY_CODEC_DECODE',
      'snoopy.source.topic': name,
      'snoopy.source.partition': '0',
      'snoopy.source.offset': '0',
    });
    expect(h['snoopy.error.message']).toMatch(/json/i);

    // The dead-lettered message was committed with the rest: the group does not see it again.
    await raw('{"ok":3}');
    const again = closing(Topic(name, { ...base(), 'group.id': group }, { deadLetter: dlqName }));
    const [next] = await take(again, 1);
    expect((next as KafkaMessage).value).toEqual({ ok: 3 });
  });

  test('the offset option applies on the first assignment only', async () => {
    const name = randomName('offset');
    const producer = closing(Topic<number>(name, base()));
    await producer.create();
    await Promise.all([0, 1, 2, 3, 4].map((n) => producer(n)));
    const group = randomName('g');
    const fromTwo = closing(Topic<number>(name, { ...base(), 'group.id': group }, { offset: 2 }));
    const got = await take(fromTwo, 2);
    expect(got.map((m) => (m as KafkaMessage<number>).value)).toEqual([2, 3]);
    // A second iteration of the same Topic is not a first assignment: it resumes at the commit.
    const more = await take(fromTwo, 1);
    expect(more.map((m) => (m as KafkaMessage<number>).value)).toEqual([4]);
    const latest = closing(Topic<number>(name, { ...base(), 'group.id': randomName('g') }, { offset: 'latest' }));
    const it = latest[Symbol.asyncIterator]();
    const pending = it.next();
    // 'latest' skips everything produced before the assignment; keep producing until one arrives.
    let n = 100;
    const timer = setInterval(() => void producer(n++), 200);
    const r = await pending.finally(() => clearInterval(timer));
    expect((r.value as KafkaMessage<number>).value).toBeGreaterThanOrEqual(100);
    await it.return?.();
  });

  test('consuming without group.id fails with SNOOPY_KAFKA_CONFIG saying so', async () => {
    const topic = closing(Topic(randomName('nogroup'), base()));
    await expect(topic[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'SNOOPY_KAFKA_CONFIG',
      message: expect.stringContaining('group.id'),
    });
  });

  test('an unreachable broker fails with SNOOPY_KAFKA_CONNECT naming the servers', async () => {
    const topic = closing(Topic('x', { 'bootstrap.servers': '127.0.0.1:1' }, { connectTimeoutMs: 1000 }));
    await expect(topic(1)).rejects.toMatchObject({ code: 'SNOOPY_KAFKA_CONNECT', message: expect.stringContaining('127.0.0.1:1') });
    const consumer = closing(Topic('x', { 'bootstrap.servers': '127.0.0.1:1', 'group.id': 'g' }, { connectTimeoutMs: 1000 }));
    await expect(consumer[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'SNOOPY_KAFKA_CONNECT', message: expect.stringContaining('127.0.0.1:1') });
  });

  test('a sink whose broker is unreachable: opened at the stream start, its first output fails the stream with SNOOPY_KAFKA_CONNECT, and close() returns', async () => {
    const sink = Topic<number>('x', { 'bootstrap.servers': '127.0.0.1:1' }, { connectTimeoutMs: 1000 });
    const r = new Registry();
    r.snap([1], { sink, name: 'unreachable' })((n: number) => n);
    const error = await r.stream({ handleSignals: false, logger: quiet, progress: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SNOOPY_SNAP_SINK', snap: 'unreachable', cause: { code: 'SNOOPY_KAFKA_CONNECT', message: expect.stringContaining('127.0.0.1:1') } });
    expect(sink.stats.produced).toBe(0);
    await sink.close();
  });

  test('Conf() is merged at first connect, whether it comes before or after the Topic', async () => {
    const name = randomName('conf');
    const topic = closing(Topic<number>(name));
    Conf({ 'bootstrap.servers': servers! });
    try {
      await topic.create();
      await topic(42);
      const later = closing(Topic<number>(name, { 'group.id': randomName('g') }));
      const [m] = await take(later, 1);
      expect((m as KafkaMessage<number>).value).toBe(42);
    } finally {
      Conf({ 'bootstrap.servers': undefined });
    }
  });

  test('as a deferred sink: completions from delivery reports; a full queue slows the caller', async () => {
    const name = randomName('sink');
    const topic = closing(Topic<number>(name, { ...base(), 'queue.buffering.max.messages': 10, 'linger.ms': 2 }));
    await topic.create();
    const c = counter();
    let waits = 0;
    for (let i = 0; i < 2000; i++) {
      const room = topic[deliver](i % 2 ? i : ([`k${i}`, i] as const), c);
      if (room) {
        waits++;
        await room;
      }
    }
    await topic[flush]();
    await c.all(2000);
    expect(c.failed).toEqual([]);
    expect(c.done_).toBe(2000);
    expect(waits).toBeGreaterThan(0);
    expect(topic.stats.queueFullWaits).toBeGreaterThan(0);
    const values: number[] = [];
    for await (const m of topic.read({ partition: 0 })) values.push(m.value);
    expect(values).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  test('exactly-once: outputs and consumed offsets commit together', async () => {
    const input = randomName('eos-in');
    const output = randomName('eos-out');
    const group = randomName('g');
    const producer = closing(Topic<number>(input, base()));
    await producer.create({ partitions: 2 });
    await closing(Topic(output, base())).create({ partitions: 1 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => producer([`k${i}`, i])));

    const source = closing(Topic<number>(input, { ...base(), 'group.id': group }, { commitIntervalMs: 100 }));
    const sink = closing(Topic<number>(output, base(), { exactlyOnce: { source } }));
    const it = source[Symbol.asyncIterator]();
    for (let i = 0; i < 60; i++) {
      const r = await it.next();
      const m = r.value as KafkaMessage<number>;
      await sink[deliver](m.value * 10, { done: () => source[ack](m), fail: (e) => { throw e; } });
    }
    await it.return?.();
    await sink.close();
    expect(sink.stats.transactions).toBeGreaterThan(0);

    const reader = closing(Topic<number>(output, { ...base(), 'group.id': randomName('g'), 'isolation.level': 'read_committed' }));
    const results = (await take(reader, 60)).map((m) => (m as KafkaMessage<number>).value);
    expect(results).toHaveLength(60);

    // The rest of the input is still there for the group: 40 messages.
    const rest = closing(Topic<number>(input, { ...base(), 'group.id': group }));
    const left = await take(rest, 40);
    expect(new Set([...results.map((v) => v / 10), ...left.map((m) => (m as KafkaMessage<number>).value)]).size).toBe(100);
  });
});
