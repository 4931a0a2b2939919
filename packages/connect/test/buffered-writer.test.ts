import { Writable } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ack, Registry, type DeadLetter } from '@snoopy/core';
import { bufferedWriter, type Batch, type BufferedWriterOptions, type Send } from '../src/index.js';
import { gate, isSettled, permanent, settle, until } from './helpers.js';

interface Sent<T> {
  records: T[];
  bytes: number;
  body: string;
}

/** A writer whose batches are recorded; closed when the test finishes. */
function recording<T>(options: BufferedWriterOptions<T>, send?: Send<T>) {
  const sent: Sent<T>[] = [];
  const w = bufferedWriter<T>(async (batch: Batch<T>, ctx) => {
    if (send) await send(batch, ctx);
    sent.push({ records: [...batch.records], bytes: batch.bytes, body: batch.body.toString() });
  }, { backoffMs: 1, ...options });
  onTestFinished(() => w.close({ timeoutMs: 1000 }).then(() => undefined));
  return { w, sent };
}

describe('bufferedWriter flush triggers', () => {
  it('flushes when maxRecords is reached, and the rest on flush()', async () => {
    const { w, sent } = recording<number>({ maxRecords: 3, maxDelayMs: 600_000 });
    const writes = [1, 2, 3, 4, 5, 6, 7].map((n) => w.write(n));
    await Promise.all(writes.slice(0, 6));
    expect(sent.map((b) => b.records)).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(await isSettled(writes[6]!)).toBe(false);
    await w.flush();
    await writes[6];
    expect(sent.map((b) => b.records)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(w.stats()).toMatchObject({ sent: 7, batches: 3, held: 0 });
  });

  it('flushes before maxBytes would be crossed, measured on the NDJSON body', async () => {
    // "aaaa" encodes to 6 bytes; three of them joined by newlines make 20.
    const { w, sent } = recording<string>({ maxBytes: 20, maxDelayMs: 600_000 });
    const writes = ['aaaa', 'aaaa', 'aaaa', 'bb', 'c'].map((s) => w.write(s));
    await Promise.all(writes.slice(0, 3));
    expect(sent).toEqual([{ records: ['aaaa', 'aaaa', 'aaaa'], bytes: 20, body: '"aaaa"\n"aaaa"\n"aaaa"' }]);
    await w.flush();
    expect(sent[1]).toEqual({ records: ['bb', 'c'], bytes: 8, body: '"bb"\n"c"' });
  });

  it('sends a lone record after maxDelayMs without any flush()', async () => {
    const { w, sent } = recording<string>({ maxDelayMs: 20 });
    await w.write('alone');
    expect(sent.map((b) => b.records)).toEqual([['alone']]);
  });

  it('never overshoots maxBytes and cuts only before the record that would cross it (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 8, max: 120 }),
        fc.integer({ min: 1, max: 20 }),
        async (records, maxBytes, maxRecords) => {
          const sent: { records: string[]; bytes: number; body: Buffer }[] = [];
          const w = bufferedWriter<string>((b) => void sent.push({ records: [...b.records], bytes: b.bytes, body: b.body }), {
            maxBytes,
            maxRecords,
            maxDelayMs: 600_000,
            maxBuffered: 1000,
          });
          const writes = Promise.allSettled(records.map((r) => w.write(r)));
          await w.close();
          const results = await writes;
          const size = (r: string): number => Buffer.byteLength(JSON.stringify(r));
          const fits = records.filter((r) => size(r) <= maxBytes);
          // Too large alone: those fail, with the code, and nothing else does.
          results.forEach((res, i) => {
            if (size(records[i]!) > maxBytes) expect(res).toMatchObject({ status: 'rejected', reason: { code: 'SNOOPY_CONNECT_RECORD_TOO_LARGE' } });
            else expect(res.status).toBe('fulfilled');
          });
          expect(sent.flatMap((b) => b.records)).toEqual(fits);
          for (const [i, b] of sent.entries()) {
            expect(b.body.length).toBe(b.bytes);
            expect(b.bytes).toBeLessThanOrEqual(maxBytes);
            expect(b.records.length).toBeLessThanOrEqual(maxRecords);
            const next = sent[i + 1]?.records[0];
            // A batch was cut early only because the next record would not fit.
            if (next !== undefined && b.records.length < maxRecords) expect(b.bytes + 1 + size(next)).toBeGreaterThan(maxBytes);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('bufferedWriter failures', () => {
  it('fails a record larger than maxBytes alone; its neighbours are sent', async () => {
    const { w, sent } = recording<string>({ maxBytes: 10, maxDelayMs: 600_000 });
    const drops: unknown[] = [];
    w.on('drop', (e) => drops.push(e.records));
    const small = w.write('ab');
    await expect(w.write('x'.repeat(20))).rejects.toMatchObject({ code: 'SNOOPY_CONNECT_RECORD_TOO_LARGE', bytes: 22, maxBytes: 10 });
    const other = w.write('cd');
    await w.flush();
    await Promise.all([small, other]);
    expect(sent.map((b) => b.records)).toEqual([['ab', 'cd']]);
    expect(drops).toEqual([['x'.repeat(20)]]);
  });

  it('a listener that throws is logged and later flushes go on', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
    const { w, sent } = recording<number>({ maxRecords: 1, logger });
    let calls = 0;
    w.on('send', () => {
      calls++;
      throw new Error('listener bug');
    });
    const flushes: number[] = [];
    w.on('flush', (e) => {
      flushes.push(e.batch.records[0]!);
      throw new Error('another listener bug');
    });
    for (let i = 0; i < 5; i++) await w.write(i);
    expect(sent.map((b) => b.records)).toEqual([[0], [1], [2], [3], [4]]);
    expect(calls).toBe(5);
    expect(flushes).toEqual([0, 1, 2, 3, 4]);
    await until(() => lines.length === 10, 'ten warn lines');
    expect(lines.filter((l) => l.includes('"msg":"event listener threw"') && l.includes('listener bug'))).toHaveLength(10);
  });

  it('retries retriable errors with backoff, then fails the batch with SNOOPY_CONNECT_SEND', async () => {
    let tries = 0;
    const { w, sent } = recording<number>({ maxRecords: 2, attempts: 3 }, () => {
      tries++;
      throw new Error('503 from the server');
    });
    const retries: number[] = [];
    w.on('retry', (e) => retries.push(e.attempt));
    const errors: string[] = [];
    w.on('error', (e) => errors.push(e.error.code));
    const results = await Promise.allSettled([w.write(1), w.write(2)]);
    expect(results).toMatchObject([
      { status: 'rejected', reason: { code: 'SNOOPY_CONNECT_SEND', attempts: 3, records: 2 } },
      { status: 'rejected', reason: { code: 'SNOOPY_CONNECT_SEND' } },
    ]);
    expect(tries).toBe(3);
    expect(retries).toEqual([1, 2]);
    expect(errors).toEqual(['SNOOPY_CONNECT_SEND']);
    expect(sent).toEqual([]);
  });

  it('does not retry an error marked retriable: false', async () => {
    let tries = 0;
    const { w } = recording<number>({ maxRecords: 1, attempts: 5 }, () => {
      tries++;
      throw permanent('400 bad request');
    });
    await expect(w.write(1)).rejects.toMatchObject({ code: 'SNOOPY_CONNECT_SEND', attempts: 1 });
    expect(tries).toBe(1);
  });

  it('in a snap, a batch that fails every attempt goes to the dead letter; the others are acknowledged', async () => {
    const acked: number[] = [];
    const source = Object.assign([1, 2, 3, 4, 5, 6], { [ack]: (n: number) => acked.push(n) });
    const w = bufferedWriter<number>(
      (batch) => {
        if (batch.records.includes(3)) throw new Error('the server rejects 3');
      },
      { maxRecords: 2, attempts: 2, backoffMs: 1 },
    );
    const letters: DeadLetter[] = [];
    const registry = new Registry();
    registry.snap(source, { sink: w, name: 'write', errors: { retry: { attempts: 1 }, deadLetter: (l: DeadLetter) => letters.push(l) } })((n: number) => n);
    const summary = await registry.stream({ handleSignals: false, progress: false });
    expect(letters.map((l) => l.message).sort()).toEqual([3, 4]);
    expect(letters[0]!.error.code).toBe('SNOOPY_SNAP_SINK');
    expect((letters[0]!.error.cause as { code: string }).code).toBe('SNOOPY_CONNECT_SEND');
    expect(acked.sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(summary.snaps.write!.deadLettered).toBe(2);
    expect(w.stats()).toMatchObject({ sent: 4, dropped: 2, retries: 1 });
  });
});

describe('bufferedWriter flush, close and backpressure', () => {
  it('flush() waits for a send already in flight', async () => {
    const open = gate();
    const order: string[] = [];
    const { w } = recording<number>({ maxRecords: 2 }, async () => {
      order.push('send started');
      await open.promise;
      order.push('send finished');
    });
    const writes = [w.write(1), w.write(2)];
    await until(() => order.length === 1, 'the batch to be in flight');
    const flushed = w.flush().then(() => order.push('flush resolved'));
    expect(await isSettled(flushed)).toBe(false);
    open.open();
    await flushed;
    await Promise.all(writes);
    expect(order).toEqual(['send started', 'send finished', 'flush resolved']);
  });

  it('flush({ signal }) stops waiting when aborted; the send goes on', async () => {
    const open = gate();
    const { w, sent } = recording<number>({ maxRecords: 1 }, () => open.promise);
    const written = w.write(1);
    const controller = new AbortController();
    const flushing = w.flush({ signal: controller.signal });
    controller.abort();
    await expect(flushing).rejects.toMatchObject({ code: 'SNOOPY_ABORTED' });
    open.open();
    await written;
    expect(sent.map((b) => b.records)).toEqual([[1]]);
  });

  it('acknowledges a message only once the batch holding it was sent', async () => {
    const open = gate();
    const acked: number[] = [];
    const source = Object.assign([1, 2, 3], { [ack]: (n: number) => acked.push(n) });
    let started = 0;
    const w = bufferedWriter<number>(async () => {
      started++;
      await open.promise;
    }, { maxRecords: 3 });
    const registry = new Registry();
    registry.snap(source, { sink: w })((n: number) => n);
    const done = registry.stream({ handleSignals: false, progress: false });
    await until(() => started === 1, 'the batch to be in flight');
    await settle();
    expect(acked).toEqual([]);
    open.open();
    await done;
    expect(acked).toEqual([1, 2, 3]);
  });

  it('applies backpressure at maxBuffered: the snap pulls no more while sends are stuck', async () => {
    const open = gate();
    let pulled = 0;
    function* numbers(): Generator<number> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    const sent: number[] = [];
    const w = bufferedWriter<number>(async (b) => {
      await open.promise;
      sent.push(...b.records);
    }, { maxRecords: 2, maxBuffered: 6, maxDelayMs: 600_000 });
    const registry = new Registry();
    registry.snap(numbers(), { sink: w })((n: number) => n);
    const done = registry.stream({ handleSignals: false, progress: false });
    await until(() => w.stats().held === 6, 'the writer to hold maxBuffered records');
    await settle(50);
    expect(w.stats().held).toBe(6);
    expect(pulled).toBeLessThanOrEqual(7);
    open.open();
    await done;
    expect(sent).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('a stream stopped while the writer applies backpressure ends, and nothing is acknowledged twice', async () => {
    let acks = 0;
    function* numbers(): Generator<number> {
      for (let i = 0; i < 100; i++) yield i;
    }
    const source = Object.assign(numbers(), { [ack]: () => void acks++ });
    // A server that never answers: the writer fills up, then close() times out.
    const w = bufferedWriter<number>(() => new Promise<void>(() => {}), { maxRecords: 2, maxBuffered: 4, maxDelayMs: 600_000 });
    const controller = new AbortController();
    const registry = new Registry();
    const failed: DeadLetter[] = [];
    registry.snap(source, { sink: w, errors: { deadLetter: (l: DeadLetter) => void failed.push(l) } })((n: number) => n);
    const done = registry.stream({ handleSignals: false, progress: false, signal: controller.signal, closeTimeoutMs: 100, dispose: false });
    await until(() => w.stats().held === 4, 'the writer to be full');
    controller.abort();
    const report = w.close({ timeoutMs: 50 });
    await done;
    expect([...(await report).unsent].sort()).toEqual([0, 1, 2, 3]);
    expect(failed.map((l) => l.message).sort()).toEqual([0, 1, 2, 3]);
    expect(failed.every((l) => (l.error.cause as { code?: string }).code === 'SNOOPY_CONNECT_UNSENT')).toBe(true);
    expect(acks).toBe(4);
  });

  it('write() waits for space at maxBuffered and honours its signal', async () => {
    const open = gate();
    const { w } = recording<number>({ maxRecords: 1, maxBuffered: 1 }, () => open.promise);
    const first = w.write(1);
    await until(() => w.stats().held === 1, 'the first record to be held');
    const controller = new AbortController();
    const second = w.write(2, { signal: controller.signal });
    expect(await isSettled(second)).toBe(false);
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'SNOOPY_ABORTED' });
    open.open();
    await first;
    await w.write(3);
  });

  it('many writes waiting at once never hold more than maxBuffered records', async () => {
    let open = gate();
    let most = 0;
    const { w, sent } = recording<number>({ maxRecords: 2, maxBuffered: 4 }, async () => {
      await open.promise;
    });
    w.on('send', () => (most = Math.max(most, w.stats().held)));
    const writes = Array.from({ length: 40 }, (_, i) => w.write(i));
    for (let round = 0; round < 25 && sent.length * 2 < 40; round++) {
      await settle();
      most = Math.max(most, w.stats().held);
      open.open();
      open = gate();
      await settle();
    }
    open.open();
    await Promise.all(writes);
    expect(sent.flatMap((b) => b.records)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(most).toBeLessThanOrEqual(4);
  });

  it('close() flushes, is idempotent, and write after close fails with SNOOPY_CLOSED', async () => {
    const { w, sent } = recording<number>({ maxDelayMs: 600_000 });
    const writes = [w.write(1), w.write(2)];
    const a = w.close();
    const b = w.close();
    expect(a).toBe(b);
    expect(await a).toEqual({ unsent: [] });
    await Promise.all(writes);
    expect(sent.map((s) => s.records)).toEqual([[1, 2]]);
    await expect(w.write(3)).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
    await w[Symbol.asyncDispose]();
  });

  it('close({ timeoutMs }) reports what was not sent and fails it with SNOOPY_CONNECT_UNSENT', async () => {
    let signal: AbortSignal | undefined;
    const { w } = recording<number>({ maxRecords: 2, maxDelayMs: 600_000 }, (_b, ctx) => {
      signal = ctx.signal;
      return new Promise<void>(() => {}); // a server that never answers
    });
    const writes = [1, 2, 3].map((n) => w.write(n));
    await until(() => signal !== undefined, 'the first batch to be in flight');
    const report = await w.close({ timeoutMs: 50 });
    expect([...report.unsent].sort()).toEqual([1, 2, 3]);
    expect(signal!.aborted).toBe(true);
    for (const r of await Promise.allSettled(writes)) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'SNOOPY_CONNECT_UNSENT' } });
  });

  it('refuses bad options at construction', () => {
    expect(() => bufferedWriter(() => {}, { maxRecords: 0 })).toThrow('bufferedWriter: Expected `maxRecords` to be an integer >= 1, got `0` (number)');
    expect(() => bufferedWriter(() => {}, { maxRecord: 5 } as never)).toThrow(/Expected `maxRecord` to be absent/);
    expect(() => bufferedWriter(() => {}, { maxRecords: 10, maxBuffered: 5 })).toThrow(/maxBuffered/);
    expect(() => bufferedWriter('nope' as never)).toThrow(/Expected `send` to be a function/);
    try {
      bufferedWriter(() => {}, { maxBytes: -1 });
    } catch (e) {
      expect((e as { code: string }).code).toBe('SNOOPY_OPTIONS_INVALID');
    }
  });
});
