// Core's own behaviour, tested with the test kit (@snoopy/testing): MemoryTopic sources and sinks
// stand in for Kafka, FakeClock for time. A top-level suite: testing depends on core.
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Registry, type DeadLetter } from '@snoopy/core';
import { FakeClock, MemoryTopic, runSnap, settle, type MemoryMessage } from '@snoopy/testing';

const silent = pino({ level: 'silent' });

function recording(): { logger: pino.Logger; lines: () => Record<string, any>[] } {
  const raw: string[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void raw.push(l) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, any>) };
}

describe('core, tested with @snoopy/testing', () => {
  it('acknowledges a message only after its handler and its deferred sink finished: a failure stops the commits before it', async () => {
    const orders = MemoryTopic<number>('orders');
    const invoices = MemoryTopic<string>('invoices');
    onTestFinished(() => Promise.all([orders.close(), invoices.close()]).then(() => undefined));
    for (const n of [1, 2, 3, 4, 5]) await orders(n);
    const r = new Registry();
    r.snap(orders, { name: 'invoice', sink: invoices })((m: MemoryMessage<number>) => {
      if (m.value === 4) throw new Error('order 4 is broken');
      return `invoice ${m.value}`;
    });
    const error = await r.stream({ logger: silent, handleSignals: false, progress: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SNOOPY_SNAP_HANDLER', location: { snap: 'invoice', topic: 'orders', partition: 0, offset: 3 } });
    expect(invoices.values()).toEqual(['invoice 1', 'invoice 2', 'invoice 3']);
    // Offsets 0..2 are done; 3 failed, so the committed offset (the next to read) stays at 3.
    expect(orders.committed(0)).toBe(3);
  });

  it('retries with backoff on fake time, then dead-letters with the message coordinates', async () => {
    const payments = MemoryTopic<{ id: number }>('payments', { partitions: 2 });
    onTestFinished(() => payments.close());
    await payments(['ann', { id: 1 }]);
    await payments(['bob', { id: 2 }]);
    let calls = 0;
    const clock = new FakeClock();
    const run = await runSnap(
      (m: MemoryMessage<{ id: number }>) => {
        calls++;
        if (m.key === 'bob') throw new Error('gateway down');
        return m.value.id;
      },
      payments,
      { errors: { retry: { attempts: 4, backoffMs: 60_000 } }, fakeTime: clock, name: 'pay' },
    );
    expect(run.outputs).toEqual([1]);
    expect(calls).toBe(5);
    // 60 s + 120 s + 240 s of backoff, on the fake clock only.
    expect(clock.now).toBeGreaterThanOrEqual(420_000);
    const [letter] = run.deadLetters as [DeadLetter];
    expect(letter.attempts).toBe(4);
    expect(letter.error.code).toBe('SNOOPY_SNAP_HANDLER');
    const bob = payments.messages().find((m) => m.key === 'bob')!;
    expect(letter.meta).toMatchObject({ topic: 'payments', partition: bob.partition, offset: bob.offset });
    expect(letter.error.message).toBe(`Snap pay: handler failed: gateway down (snap pay, topic payments, partition ${bob.partition}, offset ${bob.offset})`);
  });

  it('keeps per-key order under concurrency', async () => {
    const events = MemoryTopic<number>('events', { partitions: 3 });
    onTestFinished(() => events.close());
    for (let i = 0; i < 30; i++) await events([`k${i % 4}`, i]);
    const run = await runSnap(
      async (m: MemoryMessage<number>) => {
        // Later messages finish first unless core holds them back per key.
        await new Promise((resolve) => setImmediate(resolve));
        if (m.value % 3 === 0) await settle(3);
        return [m.key, m.value] as const;
      },
      events,
      { concurrency: 8 },
    );
    const byKey = new Map<string, number[]>();
    for (const [k, v] of run.outputs as (readonly [string, number])[]) byKey.set(k, [...(byKey.get(k) ?? []), v]);
    for (const [k, values] of byKey) {
      expect(values, k).toEqual([...values].sort((a, b) => a - b));
    }
    expect(run.outputs).toHaveLength(30);
  });

  it('logs a progress line per snap every 30 s by default (fake time) while a source follows forever, lag-less', async () => {
    const clock = new FakeClock().install();
    onTestFinished(() => clock.uninstall());
    const live = MemoryTopic<number>('live', { follow: true });
    onTestFinished(() => live.close());
    for (const n of [1, 2, 3]) await live(n);
    const { logger, lines } = recording();
    const controller = new AbortController();
    const r = new Registry();
    r.snap(live, { name: 'tail' })((m: MemoryMessage<number>) => m.value);
    const running = r.stream({ logger, handleSignals: false, progress: false, signal: controller.signal });
    const progressLines = () => lines().filter((l) => l.msg === 'progress');
    await settle(20);
    await clock.advance(29_000);
    expect(progressLines()).toEqual([]);
    await clock.advance(1_000);
    expect(progressLines()).toHaveLength(1);
    expect(progressLines()[0]).toMatchObject({ snap: 'tail', in: 3, out: 3, errors: 0, rate: 0.1 });
    await live(4);
    await settle(20);
    await clock.advance(30_000);
    expect(progressLines()).toHaveLength(2);
    expect(progressLines()[1]).toMatchObject({ in: 4, rate: 0 });
    controller.abort();
    await live.close();
    const summary = await running;
    expect(summary.in).toBe(4);
    await clock.advance(60_000);
    expect(progressLines()).toHaveLength(2);
  });
});
