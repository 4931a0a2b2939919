import { DeadLetter, Registry, deliver, rootLogger } from '@snoopy/core';
import type { DeliveryReport, LibrdKafkaError, Producer as NativeProducer } from '@confluentinc/kafka-javascript';
import { describe, expect, test } from 'vitest';
import { DeliveryBatches } from '../src/delivery-batches.js';
import { Topic, type KafkaMessage } from '../src/index.js';
import type { ProducerStats } from '../src/producer.js';
import { bootstrapServers, closing, counter, randomName, take } from './helpers.js';

const servers = bootstrapServers();
const quiet = rootLogger().child({}, { level: 'silent' });

interface Row {
  id: number;
  pad: string;
}

describe.skipIf(!servers)('a Topic sink acknowledges by flush (real broker)', () => {
  const base = () => ({ 'bootstrap.servers': servers! });

  test('messages the broker refuses fail alone and reach the dead letter; every other is delivered, none both', async () => {
    const output = randomName('out');
    const sink = closing(Topic<Row>(output, base()));
    // The broker refuses record batches over 100 kB: the 200 kB rows fail (with whatever
    // librdkafka batched them with), the others land.
    await sink.create({ partitions: 2, config: { 'max.message.bytes': '100000' } });
    const n = 600;
    const big = new Set([17, 250, 251, 599]);
    const rows: Row[] = Array.from({ length: n }, (_, id) => ({ id, pad: big.has(id) ? 'x'.repeat(200_000) : 'y' }));
    const dead: Array<DeadLetter<Row>> = [];
    const r = new Registry();
    r.snap(rows, { sink, name: 'refused', errors: { retry: { attempts: 1 }, deadLetter: (d: DeadLetter<Row>) => void dead.push(d) } })((row: Row) => row);
    const summary = await r.stream({ handleSignals: false, logger: quiet, progress: false });
    expect(summary.in).toBe(n);

    const deadIds = new Set(dead.map((d) => d.message.id));
    for (const id of big) expect(deadIds.has(id), `row ${id} (200 kB) was dead-lettered`).toBe(true);
    for (const d of dead) expect(d.error.cause ?? d.error).toMatchObject({ code: 'SNOOPY_KAFKA_PRODUCE' });
    // What the sink confirmed is exactly what the topic holds, and it is everything not dead-lettered.
    expect(sink.stats.delivered).toBe(n - deadIds.size);
    expect(sink.stats.deliveryErrors).toBe(dead.length);
    const reader = closing(Topic<Row>(output, { ...base(), 'group.id': randomName('g') }));
    const landed = (await take(reader, n - deadIds.size)).map((m) => (m as KafkaMessage<Row>).value.id);
    expect(new Set(landed).size).toBe(landed.length);
    for (const id of landed) expect(deadIds.has(id), `row ${id} landed and was dead-lettered`).toBe(false);
    expect(landed.length + deadIds.size).toBe(n);
  });

  test('messages produced while a flush runs are held, then delivered; flush() and close() wait for them', async () => {
    const output = randomName('out');
    const sink = Topic<number>(output, base());
    await sink.create({ partitions: 3 });
    const n = 5000;
    const r = new Registry();
    r.snap(Array.from({ length: n }, (_, i) => i), { sink, name: 'held' })((i: number) => i);
    await r.stream({ handleSignals: false, logger: quiet, progress: false });
    // stream() ended: every completion arrived, so every message is confirmed.
    expect(sink.stats.delivered).toBe(n);
    expect(sink.stats.produced).toBe(n);
    // Outside a stream: the sink protocol, then close() without awaiting anything else.
    const c = counter();
    for (let i = 0; i < 300; i++) void sink[deliver](n + i, c);
    await sink.close();
    expect(c.done_).toBe(300);
    expect(c.failed).toEqual([]);
    const reader = closing(Topic<number>(output, { ...base(), 'group.id': randomName('g') }));
    const values = (await take(reader, n + 300)).map((m) => (m as KafkaMessage<number>).value);
    expect(new Set(values).size).toBe(n + 300);
  });

  test('awaited sends keep their per-message report: partition and offset', async () => {
    const t = closing(Topic<number>(randomName('t'), base()));
    await t.create({ partitions: 1 });
    const a = await t(1);
    const b = await t.send(2);
    expect(a).toMatchObject({ partition: 0, offset: 0 });
    expect(b).toMatchObject({ partition: 0, offset: 1 });
  });
});

/**
 * The ordering a real broker cannot be made to show on demand: failure reports that reach
 * JavaScript after the flush's own callback (the binding hands over at most 100 per event-loop
 * turn). A fake native producer, beside the real tests above.
 */
describe('DeliveryBatches ordering (fake native producer)', () => {
  function setup() {
    const flushes: Array<(err?: unknown) => void> = [];
    const native = { flush: (_ms: number, cb: (err?: unknown) => void) => void flushes.push(cb) } as unknown as NativeProducer;
    const stats = { produced: 0, delivered: 0, deliveryErrors: 0, queueFullWaits: 0, transactions: 0 } satisfies ProducerStats;
    let released = 0;
    const batches = new DeliveryBatches(native, stats, quiet, () => void released++);
    return { batches, flushes, stats, released: () => released };
  }
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const failure = (key: string | null, value: string): [LibrdKafkaError, DeliveryReport] => [
    { code: -192, message: 'Local: Message timed out', origin: 'local' } as unknown as LibrdKafkaError,
    { topic: 't', partition: 0, offset: -1, key: key === null ? null : Buffer.from(key), value: Buffer.from(value), size: value.length } as unknown as DeliveryReport,
  ];

  test('reports arriving turns after the flush callback still fail their messages, and only those', async () => {
    const { batches, flushes, stats, released } = setup();
    const c = counter();
    for (let i = 0; i < 250; i++) batches.add('t', null, Buffer.from(`v${i}`), c);
    await turn(); // the epoch is sealed and flushed
    expect(flushes).toHaveLength(1);
    expect(batches.flushing).toBe(true);
    flushes[0]!();
    // The binding delivers the queued failures 100 per turn after the flush's callback.
    for (const batch of [[3, 7], [100], [249]]) {
      for (const i of batch) batches.report(...failure(null, `v${i}`));
      await turn();
    }
    await c.all(250);
    expect(c.failed).toHaveLength(4);
    expect(c.done_).toBe(246);
    expect(stats.delivered).toBe(246);
    expect(stats.deliveryErrors).toBe(4);
    expect(released()).toBe(1);
    expect(batches.flushing).toBe(false);
  });

  test('a flush that times out is retried; nothing is confirmed until one returns', async () => {
    const { batches, flushes } = setup();
    const c = counter();
    batches.add('t', Buffer.from('k'), Buffer.from('v'), c);
    await turn();
    flushes[0]!({ code: -185, message: 'Local: Timed out' });
    await turn();
    await turn();
    expect(c.done_).toBe(0);
    expect(flushes).toHaveLength(2);
    flushes[1]!();
    await c.all(1);
    expect(c.done_).toBe(1);
  });

  test('a flush that fails otherwise (producer disconnected) is tried again later, not in a tight loop; nothing is confirmed meanwhile', async () => {
    const { batches, flushes } = setup();
    const c = counter();
    batches.add('t', null, Buffer.from('v'), c);
    await turn();
    flushes[0]!(new Error('Producer is disconnected'));
    for (let i = 0; i < 5; i++) await turn();
    expect(flushes).toHaveLength(1);
    const deadline = Date.now() + 5000;
    while (flushes.length < 2) {
      if (Date.now() > deadline) throw new Error('the flush was not tried again within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(c.done_).toBe(0);
    flushes[1]!();
    await c.all(1);
    expect(c.done_).toBe(1);
  });

  test('stop() cancels a pending flush retry', async () => {
    const { batches, flushes } = setup();
    batches.add('t', null, Buffer.from('v'), counter());
    await turn();
    flushes[0]!(new Error('Producer is disconnected'));
    batches.stop();
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the 100 ms retry
    expect(flushes).toHaveLength(1);
  });

  test('byte-identical messages are interchangeable: one failure fails one of them; an unmatched failure fails all of its topic', async () => {
    const { batches, flushes } = setup();
    const c = counter();
    for (let i = 0; i < 3; i++) batches.add('t', Buffer.from('k'), Buffer.from('same'), c);
    batches.add('t', Buffer.from('k'), Buffer.from('other'), c);
    batches.add('u', null, Buffer.from('same'), c);
    await turn();
    batches.report(...failure('k', 'same'));
    expect(c.failed).toHaveLength(1);
    batches.report(...failure('k', 'never-sent'));
    // Every message still owed to topic t fails (sent again or dead-lettered: never lost).
    expect(c.failed).toHaveLength(4);
    flushes[0]!();
    await c.all(5);
    expect(c.done_).toBe(1); // topic u's message
  });

  test('epochs take turns: each completion settles once, and a confirmed epoch keeps nothing a later one could match', async () => {
    const { batches, flushes } = setup();
    const cycles = [5, 3, 2, 4];
    const cs = cycles.map(() => counter());
    for (let k = 0; k < cycles.length; k++) {
      for (let i = 0; i < cycles[k]!; i++) batches.add('t', null, Buffer.from(`c${k}-${i}`), cs[k]!);
      await turn();
      expect(flushes).toHaveLength(k + 1);
      if (k === 2) {
        // Epoch 0's arrays serve this epoch again: its old fifth message must not be found.
        batches.report(...failure(null, 'c0-4'));
        expect(cs[0]!.failed).toHaveLength(0);
        // Unmatched: every message owed to `t` fails (here this epoch's two), never a loss.
        expect(cs[2]!.failed).toHaveLength(2);
      }
      flushes[k]!();
      await cs[k]!.all(cycles[k]!);
      await turn();
    }
    expect(cs.map((c) => c.done_)).toEqual([5, 3, 0, 4]);
    expect(cs.map((c) => c.failed.length)).toEqual([0, 0, 2, 0]);
    expect(batches.owed).toBe(0);
  });

  test('settled() resolves once everything added is confirmed', async () => {
    const { batches, flushes } = setup();
    const c = counter();
    batches.add('t', null, Buffer.from('a'), c);
    let settled = false;
    void batches.settled().then(() => (settled = true));
    await turn();
    await turn();
    expect(settled).toBe(false);
    flushes[0]!();
    await c.all(1);
    await turn();
    expect(settled).toBe(true);
  });
});
