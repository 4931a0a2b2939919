import { Registry, rootLogger, setRootLogger, type Logger, type SnapContext } from '@snoopy/core';
import { StringCodec } from '@snoopy/codecs';

import { describe, expect, test } from 'vitest';
import { Topic, type KafkaMessage } from '../src/index.js';
import { bootstrapServers, closing, randomName, take } from './helpers.js';

const servers = bootstrapServers();
const quiet = rootLogger().child({}, { level: 'silent' });

describe.skipIf(!servers)('Topic inside stream()', () => {
  const base = () => ({ 'bootstrap.servers': servers! });

  test('a Topic sink connects its producer when the stream starts, before the first output', async () => {
    const connected: string[] = [];
    const make = (fields: Record<string, unknown> = {}): Logger => {
      const noop = () => {};
      const debug = (extra: Record<string, unknown>, msg: string) => {
        if (msg === 'producer connected') connected.push(`${String(fields.topic)} batchAcks=${String(extra.batchAcks)}`);
      };
      return { level: 'debug', isLevelEnabled: () => true, child: (more: Record<string, unknown>) => make({ ...fields, ...more }), trace: noop, debug, info: noop, warn: noop, error: noop, fatal: noop } as unknown as Logger;
    };
    setRootLogger(make());
    try {
      const output = randomName('out');
      const sink = Topic<number>(output, base());
      await sink.create({ partitions: 1 });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      async function* later(): AsyncGenerator<number> {
        await gate;
        yield 42;
      }
      const r = new Registry();
      r.snap(later(), { sink, name: 'opened' })((n: number) => n);
      const streaming = r.stream({ handleSignals: false, logger: quiet, progress: false, dispose: true });
      // Nothing was produced yet: the sink's producer connects because the stream started.
      const deadline = Date.now() + 30_000;
      while (connected.length === 0) {
        if (Date.now() > deadline) throw new Error('the sink producer did not connect within 30 s of the stream start');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(connected).toEqual([`${output} batchAcks=true`]);
      expect(sink.stats.produced).toBe(0);
      release();
      await streaming;
      expect(sink.stats.delivered).toBe(1);
    } finally {
      setRootLogger(undefined as never);
    }
  });

  test('topic -> handler -> topic: every message once, offsets committed, topics disposed', async () => {
    const input = randomName('in');
    const output = randomName('out');
    const group = randomName('g');
    const producer = closing(Topic<number>(input, base()));
    await producer.create({ partitions: 3 });
    await closing(Topic(output, base())).create({ partitions: 3 });
    const n = 500;
    await Promise.all(Array.from({ length: n }, (_, i) => producer([`k${i % 7}`, i])));

    const source = Topic<number>(input, { ...base(), 'group.id': group });
    const sink = Topic<number>(output, base());
    const r = new Registry();
    const ac = new AbortController();
    let seen = 0;
    r.snap(source, { sink, concurrency: 8 })((m: KafkaMessage<number>, ctx: SnapContext) => {
      expect(ctx.topic).toBe(input);
      if (++seen === n) setTimeout(() => ac.abort(), 50);
      return [m.key!, m.value * 2] as const;
    });
    const summary = await r.stream({ handleSignals: false, logger: quiet, signal: ac.signal, progress: false });
    expect(summary.in).toBe(n);
    expect(source.stats.acked).toBe(n);
    expect(source.stats.commits).toBeGreaterThan(0);
    expect(sink.stats.delivered).toBe(n);
    // The caller made them, so the caller closes them (stream() disposes only what it created).
    await source.close();
    await sink.close();
    await expect(sink(1)).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });

    const reader = closing(Topic<number>(output, { ...base(), 'group.id': randomName('g') }));
    const values = (await take(reader, n)).map((m) => (m as KafkaMessage<number>).value);
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i * 2));

    // The group committed everything: a new member finds nothing left (only what we add now).
    await producer(-1);
    const again = closing(Topic<number>(input, { ...base(), 'group.id': group }));
    const [next] = await take(again, 1);
    expect((next as KafkaMessage<number>).value).toBe(-1);
  });

  test('undecodable messages go through the snap error policy with their location', async () => {
    const input = randomName('in');
    const raw = closing(Topic<string>(input, base(), { codec: new StringCodec() }));
    await raw.create();
    await raw('1');
    await raw('{oops');
    await raw('3');
    const source = Topic<number>(input, { ...base(), 'group.id': randomName('g') });
    const dead: unknown[] = [];
    const got: number[] = [];
    const r = new Registry();
    const ac = new AbortController();
    r.snap(source, { errors: { deadLetter: (d: unknown) => void dead.push(d) } })((m: KafkaMessage<number>) => {
      got.push(m.value);
      if (m.value === 3) setTimeout(() => ac.abort(), 50);
    });
    await r.stream({ handleSignals: false, logger: quiet, signal: ac.signal, progress: false });
    expect(got).toEqual([1, 3]);
    expect(dead).toHaveLength(1);
    expect(JSON.stringify(dead[0])).toBeDefined();
    expect((dead[0] as { error: { code: string; location: object } }).error).toMatchObject({
      location: { topic: input, partition: 0, offset: 1 },
    });
    expect(source.stats.acked).toBe(3);
  });
});
