// The fetcher (fetch.ts): polling goes on while handlers are busy, and a partition with too many
// unacknowledged messages is paused.
import { Registry, ack, rootLogger, take as takeNow, type Taking } from '@snoopy/core';
import { describe, expect, test } from 'vitest';
import { Topic, type KafkaMessage } from '../src/index.js';
import { bootstrapServers, closing, randomName, take } from './helpers.js';

const servers = bootstrapServers();
const quiet = rootLogger().child({}, { level: 'silent' });

describe.skipIf(!servers)('fetching', () => {
  const base = () => ({ 'bootstrap.servers': servers! });

  test('a handler slower than max.poll.interval.ms keeps the membership: every message is handled once', { timeout: 90_000 }, async () => {
    const name = randomName('slow');
    const producer = closing(Topic<number>(name, base()));
    await producer.create({ partitions: 1 });
    const n = 30;
    for (let i = 0; i < n; i++) await producer(i);

    const group = randomName('g');
    // The broker's minimum session timeout is 6 s and max.poll.interval.ms may not be below it.
    const config = { ...base(), 'group.id': group, 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 1000, 'max.poll.interval.ms': 6000 };
    const source = closing(Topic<number>(name, config, { commitIntervalMs: 200 }));
    const calls = new Map<number, number>();
    const r = new Registry();
    const stop = new AbortController();
    r.snap(source, { concurrency: 1 })(async (m: KafkaMessage<number>) => {
      calls.set(m.value, (calls.get(m.value) ?? 0) + 1);
      // Half again the poll interval: librdkafka would leave the group without polls meanwhile.
      if (m.value === 5) await new Promise((resolve) => setTimeout(resolve, 9000));
      if (calls.size === n) setTimeout(() => stop.abort(), 300);
    });
    const summary = await r.stream({ handleSignals: false, logger: quiet, signal: stop.signal, progress: false });
    expect(summary.in).toBe(n);
    expect([...calls.entries()].filter(([, c]) => c !== 1)).toEqual([]);
    expect(calls.size).toBe(n);
    expect(source.stats.revoked).toBe(0);
    await source.close();

    // Everything was committed: the group's next member sees only what comes now.
    await producer(-1);
    const next = closing(Topic<number>(name, { ...base(), 'group.id': group }));
    expect((await take(next, 1)).map((m) => (m as KafkaMessage<number>).value)).toEqual([-1]);
  });

  test('a partition holding maxUnackedPerPartition unacknowledged messages is paused, and resumes once they are acknowledged', { timeout: 60_000 }, async () => {
    const name = randomName('cap');
    const producer = closing(Topic<number>(name, base()));
    await producer.create({ partitions: 1 });
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => producer(i)));

    const topic = closing(Topic<number>(name, { ...base(), 'group.id': randomName('g') }, { maxUnackedPerPartition: 20, fetchBatchSize: 10 }));
    const it = topic[Symbol.asyncIterator]();
    const held: unknown[] = [];
    const values: number[] = [];
    try {
      // Message 0 is stuck (not acknowledged); everything after it is acknowledged at once, so
      // without the cap the tracker's window would grow with every message.
      while (topic.stats.capped === 0) {
        const r = await it.next();
        if (r.done) throw new Error('the topic ended');
        const m = r.value as KafkaMessage<number>;
        values.push(m.value);
        if (m.value === 0) held.push(m);
        else topic[ack](m);
        if (values.length > n) throw new Error('never capped');
      }
      expect(values.length).toBe(20);
      // Paused: nothing more is fetched; at most what was already fetched (one fetch batch,
      // a fetch under way and, at most, one more) still comes out. Give the fetcher time to show it stopped.
      const fetchedAtCap = topic.stats.fetched;
      const more = it.next();
      let resolved = false;
      void more.then(() => (resolved = true));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(topic.stats.fetched - fetchedAtCap).toBeLessThanOrEqual(20);
      expect(topic.stats.yielded).toBeLessThanOrEqual(fetchedAtCap + 20);
      // Acknowledging the stuck message settles the window: the partition resumes.
      topic[ack](held[0]);
      const first = (await more).value as KafkaMessage<number>;
      values.push(first.value);
      topic[ack](first);
      while (values.length < n) {
        const r = await it.next();
        const m = r.value as KafkaMessage<number>;
        values.push(m.value);
        topic[ack](m);
      }
      void resolved;
      expect(values).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(topic.stats.capped).toBeGreaterThanOrEqual(1);
    } finally {
      await it.return?.();
    }
  });
  test('while a fetch is under way, the consumer hands out at most 64 buffered items without letting the event loop run', { timeout: 60_000 }, async () => {
    const name = randomName('burst');
    const producer = closing(Topic<number>(name, base()));
    await producer.create({ partitions: 1 });
    const n = 3000;
    await Promise.all(Array.from({ length: n }, (_, i) => producer(i)));

    const topic = closing(Topic<number>(name, { ...base(), 'group.id': randomName('g') }, { fetchBatchSize: 400 }));
    const it = topic[Symbol.asyncIterator]() as AsyncIterator<KafkaMessage<number>> & Taking<KafkaMessage<number>>;
    const values: number[] = [];
    // Acknowledged at once, so that never more than 1,000 are unacknowledged: only the fetch
    // under way makes the consumer let the event loop run.
    const got = (m: KafkaMessage<number>): void => {
      values.push(m.value);
      topic[ack](m);
    };
    let longest = 0;
    let yieldsWithItemsLeft = 0;
    try {
      got((await it.next()).value);
      const f = (it as unknown as { fetcher: { fetching: boolean; buffered: number } }).fetcher;
      while (values.length < n) {
        // One synchronous run of takes, as core's pull loop makes them between two awaits.
        let run = 0;
        for (;;) {
          const fetchingBefore = f.fetching;
          const item = it[takeNow]();
          if (item === undefined) {
            if (f.buffered > 0) yieldsWithItemsLeft++;
            break;
          }
          got(item);
          if (fetchingBefore) longest = Math.max(longest, ++run);
        }
        if (values.length === n) break;
        const next = await it.next();
        if (next.done === true) break;
        got(next.value);
      }
    } finally {
      await it.return?.();
    }
    expect(values).toEqual(Array.from({ length: n }, (_, i) => i));
    // Every run of takes made while a fetch was under way stopped within 64 (+1 for the take
    // that started the fetch) items, and some stopped with items still buffered: the event loop ran.
    expect(longest).toBeGreaterThan(0);
    expect(longest).toBeLessThanOrEqual(65);
    expect(yieldsWithItemsLeft).toBeGreaterThan(0);
  });
});
