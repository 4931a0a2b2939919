// Where an assigned partition starts when the rebalancer gives explicit positions (rebalance.ts):
// the group's commit per partition, else `auto.offset.reset`, looked up before assigning.
import { describe, expect, test } from 'vitest';
import { Topic, type KafkaMessage } from '../src/index.js';
import { resetOffset } from '../src/rebalance.js';
import { bootstrapServers, closing, randomName, take } from './helpers.js';

const servers = bootstrapServers();

describe('resetOffset', () => {
  test("maps librdkafka's auto.offset.reset values to logical offsets, and leaves the rest to librdkafka", () => {
    expect(['earliest', 'smallest', 'beginning'].map(resetOffset)).toEqual([-2, -2, -2]);
    expect(['latest', 'largest', 'end'].map(resetOffset)).toEqual([-1, -1, -1]);
    expect([undefined, 'error', 'nonsense'].map(resetOffset)).toEqual([undefined, undefined, undefined]);
  });
});

describe.skipIf(!servers)('start positions looked up before assigning', () => {
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

// A commit still in flight when its partition is assigned again (after a lost membership) cannot
// be caused on purpose on a healthy broker; faked here, as librdkafka's own look-up waits for it.
describe('the look-up while a commit of this consumer is in flight (faked native consumer)', () => {
  async function assignWith(inFlight: boolean, offset?: number): Promise<unknown[]> {
    const { Rebalancer } = await import('../src/rebalance.js');
    const { PartitionOffsets } = await import('../src/offsets.js');
    const { resolveTopicOptions } = await import('../src/options.js');
    const log = Object.fromEntries(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((level) => [level, () => {}]));
    const assigned: unknown[] = [];
    const native = {
      rebalanceProtocol: () => 'COOPERATIVE',
      // Partition 0 has a (possibly stale) commit at 7, partition 1 none.
      committed: (list: Array<{ topic: string; partition: number }>, _timeout: number, cb: (e: unknown, l: unknown[]) => void) =>
        cb(null, list.map((tp) => (tp.partition === 0 ? { ...tp, offset: 7 } : { ...tp }))),
      incrementalAssign: (list: unknown[]) => assigned.push(...list),
    };
    const host = {
      native: native as never,
      disconnecting: false,
      partitions: new Map(),
      track: (p: number) => new PartitionOffsets('t', p),
      retire: () => {},
      settleRevoked: async () => {},
      lostReason: () => undefined,
      resetOffset: -2,
      commitsInFlight: () => inFlight,
    };
    const stats = { fetched: 0, yielded: 0, acked: 0, commits: 0, commitErrors: 0, lastCommitMs: 0, decodeErrors: 0, deadLettered: 0, assigned: 0, revoked: 0, stale: 0, capped: 0 };
    const failures: unknown[] = [];
    const rebalancer = new Rebalancer(host, 't', resolveTopicOptions(offset === undefined ? {} : { offset }), stats, log as never, new Set(), (e) => failures.push(e));
    rebalancer.callback({ code: -175 } as never, [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    await rebalancer.settled();
    expect(failures).toEqual([]);
    return assigned;
  }

  test('without one, each partition is assigned at its commit, else at auto.offset.reset', async () => {
    expect(await assignWith(false)).toEqual([{ topic: 't', partition: 0, offset: 7 }, { topic: 't', partition: 1, offset: -2 }]);
  });

  test('with one, the partitions are left to librdkafka (no explicit position); a numeric offset still applies where there is no commit', async () => {
    expect(await assignWith(true)).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    expect(await assignWith(true, 3)).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1, offset: 3 }]);
  });
});
