// Where an assigned partition starts (rebalance.ts): the group's commit per partition, else
// `auto.offset.reset` (set in the config or by `offset`).
import { describe, expect, test } from 'vitest';
import { Topic, type KafkaMessage } from '../src/index.js';
import { bootstrapServers, closing, randomName, take } from './helpers.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('start positions per partition', () => {
  const base = () => ({ 'bootstrap.servers': servers! });
  const byPartition = (items: unknown[]) => {
    const out: Record<number, number[]> = {};
    for (const m of items as Array<KafkaMessage<number>>) (out[m.partition] ??= []).push(m.value);
    return out;
  };

  test('each partition resumes at its own commit; a partition the group never committed starts at the beginning', { timeout: 60_000 }, async () => {
    const name = randomName('starts');
    const producer = closing(Topic<number>(name, base()));
    await producer.create({ partitions: 3 });
    for (let p = 0; p < 3; p++) await Promise.all([0, 1, 2].map((i) => producer.send(p * 10 + i, { partition: p })));
    const group = randomName('g');
    // Acknowledge the messages of partitions 0 and 1 only: partition 2 gets no commit.
    const first = closing(Topic<number>(name, { ...base(), 'group.id': group }, { offset: 'earliest' }));
    const seen = await take(first, 9, (m) => (m as KafkaMessage<number>).partition !== 2);
    expect(byPartition(seen)).toEqual({ 0: [0, 1, 2], 1: [10, 11, 12], 2: [20, 21, 22] });
    await first.close();
    for (let p = 0; p < 3; p++) await producer.send(p * 10 + 5, { partition: p });
    const restarted = closing(Topic<number>(name, { ...base(), 'group.id': group }, { offset: 'earliest' }));
    expect(byPartition(await take(restarted, 6))).toEqual({ 0: [5], 1: [15], 2: [20, 21, 22, 25] });
  });

  test("auto.offset.reset: 'latest' in the config (no `offset` option) starts a fresh group at the end", { timeout: 60_000 }, async () => {
    const name = randomName('reset-latest');
    const producer = closing(Topic<number>(name, base()));
    await producer.create({ partitions: 1 });
    await Promise.all([0, 1, 2].map((n) => producer(n)));
    const latest = closing(Topic<number>(name, { ...base(), 'group.id': randomName('g'), 'auto.offset.reset': 'latest' }));
    const it = latest[Symbol.asyncIterator]();
    const pending = it.next();
    // Everything produced before the assignment is skipped; keep producing until one arrives.
    let n = 100;
    const timer = setInterval(() => void producer(n++), 200);
    try {
      const r = await pending;
      expect((r.value as KafkaMessage<number>).value).toBeGreaterThanOrEqual(100);
    } finally {
      clearInterval(timer);
      await it.return?.();
    }
  });
});
