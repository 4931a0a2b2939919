import { describe as suite, expect, it } from 'vitest';
import { pino } from 'pino';
import {
  ack,
  deliver,
  describe,
  flush,
  open,
  take,
  DeadLetter,
  FailedItem,
  Registry,
  SnapError,
  type Completion,
  type MessageMeta,
} from '@snoopy/core';

const quiet = pino({ level: 'silent' });
const opts = { handleSignals: false, logger: quiet } as const;

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** An async source that records how far it was pulled and whether its finally ran. */
function tracked<T>(items: Iterable<T>, forever = false) {
  const state = { pulled: 0, closed: false };
  async function* gen(): AsyncGenerator<T> {
    try {
      do {
        for (const item of items) {
          state.pulled++;
          yield item;
        }
      } while (forever);
    } finally {
      state.closed = true;
    }
  }
  return { source: gen(), state };
}

suite('stream(): handler results and sinks', () => {
  it('sends each value to every sink in the order they are listed, awaiting async sinks', async () => {
    const r = new Registry();
    const log: string[] = [];
    const first = async (v: string): Promise<void> => {
      await tick();
      log.push(`first:${v}`);
    };
    const second = (v: string): void => {
      log.push(`second:${v}`);
    };
    r.snap([1, 2], { sink: [first, second] })((n: number) => `v${n}`);
    const summary = await r.stream(opts);
    expect(log).toEqual(['first:v1', 'second:v1', 'first:v2', 'second:v2']);
    expect(summary.in).toBe(2);
    expect(summary.out).toBe(2);
  });

  it('sends nothing for undefined, sends null as a value, and sends each value a generator yields', async () => {
    const r = new Registry();
    const out: unknown[] = [];
    const sink = (v: unknown): void => {
      out.push(v);
    };
    r.snap([0, 1, 2, 3], { sink })(function* (n: number) {
      if (n === 0) return;
      if (n === 1) {
        yield null;
        return;
      }
      yield `${n}a`;
      yield `${n}b`;
    });
    await r.stream(opts);
    expect(out).toEqual([null, '2a', '2b', '3a', '3b']);

    const r2 = new Registry();
    const out2: unknown[] = [];
    r2.snap([1, 2, 3], { sink: (v: unknown) => void out2.push(v) })((n: number) => (n === 2 ? undefined : n === 3 ? null : n));
    await r2.stream(opts);
    expect(out2).toEqual([1, null]);
  });

  it('awaits async handlers and async generator handlers', async () => {
    const r = new Registry();
    const out: unknown[] = [];
    r.snap([1, 2], { sink: (v: unknown) => void out.push(v) })(async (n: number) => {
      await tick();
      return n * 10;
    });
    r.snap(['x'], { sink: (v: unknown) => void out.push(v) })(async function* (s: string) {
      yield `${s}1`;
      await tick();
      yield `${s}2`;
    });
    await r.stream(opts);
    expect(out.filter((v) => typeof v === 'number')).toEqual([10, 20]);
    expect(out.filter((v) => typeof v === 'string')).toEqual(['x1', 'x2']);
  });

  it('passes a context to handlers that declare a second parameter, with the metadata the source describes', async () => {
    const r = new Registry();
    const items = [{ id: 1 }, { id: 2 }];
    const source = {
      *[Symbol.iterator]() {
        yield* items;
      },
      [describe](item: { id: number }): MessageMeta {
        return { topic: 't', partition: 0, offset: item.id, key: `k${item.id}` };
      },
    };
    const seen: unknown[] = [];
    r.snap(source, { name: 'ctx' })((msg: { id: number }, ctx: import('@snoopy/core').SnapContext) => {
      seen.push({ id: msg.id, snap: ctx.snap, offset: ctx.offset, key: ctx.key, topic: ctx.topic, aborted: ctx.signal.aborted, same: ctx.source === source });
      expect(typeof ctx.logger.info).toBe('function');
    });
    await r.stream(opts);
    expect(seen).toEqual([
      { id: 1, snap: 'ctx', offset: 1, key: 'k1', topic: 't', aborted: false, same: true },
      { id: 2, snap: 'ctx', offset: 2, key: 'k2', topic: 't', aborted: false, same: true },
    ]);
  });

  it('iterates a source bound to several snaps once, and each item reaches every snap', async () => {
    const r = new Registry();
    const { source, state } = tracked([1, 2, 3]);
    const a: number[] = [];
    const b: number[] = [];
    r.snap(source)((n: number) => void a.push(n));
    r.snap(source)(async (n: number) => {
      await tick();
      b.push(n);
    });
    await r.stream(opts);
    expect(state.pulled).toBe(3);
    expect(a).toEqual([1, 2, 3]);
    expect(b).toEqual([1, 2, 3]);
  });

  it('reads every source of a snap with several sources, and reports per-snap counters', async () => {
    const r = new Registry();
    const got: string[] = [];
    r.snap(['a', 'b'], tracked(['c']).source, { name: 'multi', sink: (v: string) => void got.push(v) })((s: string) => s.toUpperCase());
    const summary = await r.stream(opts);
    expect(got.sort()).toEqual(['A', 'B', 'C']);
    expect(summary.snaps.multi).toMatchObject({ name: 'multi', in: 3, out: 3, errors: 0 });
  });

  it('empties the default-style registry when stream settles, and refuses a second concurrent stream', async () => {
    const r = new Registry();
    const gate = deferred();
    r.snap([1])(async () => gate.promise);
    const running = r.stream(opts);
    await expect(r.stream(opts)).rejects.toMatchObject({ code: 'SNOOPY_STREAM_RUNNING' });
    gate.resolve();
    await running;
    expect(r.definitions).toHaveLength(0);
    const again: number[] = [];
    r.snap([7])((n: number) => void again.push(n));
    await r.stream(opts);
    expect(again).toEqual([7]);
  });

  it('reads Node Readables and ix sequences as sources', async () => {
    const { Readable } = await import('node:stream');
    const { AsyncIterableX } = await import('ix/asynciterable');
    const { filter } = await import('ix/asynciterable/operators');
    const r = new Registry();
    const out: string[] = [];
    const sink = (v: string): void => void out.push(v);
    r.snap(Readable.from(['r1', 'r2']), { sink })((s: string) => s);
    r.snap(AsyncIterableX.from([1, 2, 3, 4]).pipe(filter((n: number) => n % 2 === 0)), { sink })((n: number) => `ix${n}`);
    await r.stream(opts);
    expect(out.sort()).toEqual(['ix2', 'ix4', 'r1', 'r2']);
  });

  it('gives a directly called handler a context when it declares one', async () => {
    const r = new Registry();
    const h = r.snap([1], { name: 'direct' })((n: number, ctx: import('@snoopy/core').SnapContext) => `${n} from ${ctx.snap}`);
    await expect(h(1)).resolves.toEqual(['1 from direct']);
  });

  it('runs the handler and sinks once when a snapped function is called directly', async () => {
    const r = new Registry();
    const out: string[] = [];
    const h = r.snap([], { sink: [(v: string) => void out.push(v)] })((msg: string) => `Hello ${msg}`);
    await expect(h('you')).resolves.toEqual(['Hello you']);
    expect(out).toEqual(['Hello you']);
  });
});

suite('stream(): concurrency, order and backpressure', () => {
  it('keeps input order in the outputs while handlers overlap, and never exceeds the limit', async () => {
    const r = new Registry();
    let active = 0;
    let peak = 0;
    const out: number[] = [];
    const delays = [5, 1, 4, 0, 3, 2, 6, 0, 1, 2];
    r.snap(delays.map((_, i) => i), { concurrency: 3, sink: (v: number) => void out.push(v) })(async (i: number) => {
      active++;
      peak = Math.max(peak, active);
      for (let k = 0; k < delays[i]!; k++) await tick();
      active--;
      return i;
    });
    await r.stream(opts);
    expect(out).toEqual(delays.map((_, i) => i));
    expect(peak).toBe(3);
  });

  it('keeps order per key only: a later message of another key may pass a slow one', async () => {
    const r = new Registry();
    const slow = deferred();
    const items = [
      { key: 'a', n: 1 },
      { key: 'b', n: 2 },
      { key: 'a', n: 3 },
      { key: 'b', n: 4 },
    ];
    const source = {
      *[Symbol.iterator]() {
        yield* items;
      },
      [describe](item: { key: string }): MessageMeta {
        return { key: item.key };
      },
    };
    const out: number[] = [];
    r.snap(source, {
      concurrency: 4,
      sink: (v: number) => {
        out.push(v);
        if (v === 4) slow.resolve();
      },
    })(async (m: { key: string; n: number }) => {
      if (m.n === 1) await slow.promise;
      return m.n;
    });
    await r.stream(opts);
    expect(out).toEqual([2, 4, 1, 3]);
  });

  it('pulls a new item only when in-flight work is under the limit (a slow sink slows its source)', async () => {
    const r = new Registry();
    const { source, state } = tracked(Array.from({ length: 50 }, (_, i) => i));
    let sunk = 0;
    let maxAhead = 0;
    r.snap(source, {
      concurrency: 2,
      sink: async () => {
        maxAhead = Math.max(maxAhead, state.pulled - sunk);
        await tick();
        await tick();
        sunk++;
      },
    })((n: number) => n);
    await r.stream(opts);
    expect(sunk).toBe(50);
    expect(maxAhead).toBeLessThanOrEqual(3);
  });

  it('hands the handler arrays of `batch.size`, and a partial batch after `batch.ms` while the source waits', async () => {
    const r = new Registry();
    const batches: number[][] = [];
    r.snap(Array.from({ length: 10 }, (_, i) => i), { batch: { size: 4 } })((b: number[]) => void batches.push(b));
    await r.stream(opts);
    expect(batches).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);

    const r2 = new Registry();
    const gate = deferred();
    const seen: number[][] = [];
    async function* slowSource(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      await gate.promise;
      yield 3;
    }
    r2.snap(slowSource(), { batch: { size: 100, ms: 5 } })((b: number[]) => {
      seen.push(b);
      gate.resolve();
    });
    await r2.stream(opts);
    expect(seen).toEqual([[1, 2], [3]]);
  });
});

suite('stream(): errors', () => {
  it("under 'stop' rejects with a SnapError naming the snap, stops the other snaps and closes every source", async () => {
    const r = new Registry();
    const bad = tracked([1, 2, 3, 4, 5]);
    const other = tracked([1], true);
    r.snap(bad.source, { name: 'fragile' })((n: number) => {
      if (n === 3) throw new TypeError('three is bad');
    });
    r.snap(other.source, { name: 'endless' })(async () => tick());
    const error: unknown = await r.stream(opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapError);
    expect(error).toMatchObject({ code: 'SNOOPY_SNAP_HANDLER', snap: 'fragile', location: { snap: 'fragile' } });
    expect((error as SnapError).cause).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('three is bad');
    expect(bad.state.closed).toBe(true);
    expect(other.state.closed).toBe(true);
  });

  it('reports a failing sink with its own code', async () => {
    const r = new Registry();
    r.snap([1], { name: 's', sink: async () => Promise.reject(new Error('disk full')) })((n: number) => n);
    await expect(r.stream(opts)).rejects.toMatchObject({ code: 'SNOOPY_SNAP_SINK', snap: 's' });
  });

  it('reports a source that throws', async () => {
    const r = new Registry();
    async function* broken(): AsyncGenerator<number> {
      yield 1;
      throw new Error('connection reset');
    }
    r.snap(broken(), { name: 'src' })(() => undefined);
    await expect(r.stream(opts)).rejects.toMatchObject({ code: 'SNOOPY_SOURCE_FAILED' });
  });

  it("under 'skip' logs and counts the failure and goes on", async () => {
    const r = new Registry();
    const out: number[] = [];
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    r.snap([1, 2, 3], { name: 'skipper', errors: 'skip', sink: (v: number) => void out.push(v) })((n: number) => {
      if (n === 2) throw new Error('nope');
      return n;
    });
    const summary = await r.stream({ ...opts, logger });
    expect(out).toEqual([1, 3]);
    expect(summary.snaps.skipper).toMatchObject({ errors: 1, skipped: 1 });
    const warn = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'message skipped after error');
    // One warn line with the code and where; the stack only at debug.
    expect(warn).toMatchObject({ code: 'SNOOPY_SNAP_HANDLER', snap: 'skipper' });
    expect(warn.error).toContain('nope');
    expect(warn.err).toBeUndefined();
  });

  it('retries with backoff, then sends what still fails to the dead-letter sink and goes on', async () => {
    const r = new Registry();
    const attempts = new Map<number, number>();
    const letters: DeadLetter[] = [];
    const out: number[] = [];
    r.snap([1, 2, 3], {
      name: 'flaky',
      errors: { retry: { attempts: 3, backoffMs: 1 }, deadLetter: (l: DeadLetter) => void letters.push(l) },
      sink: (v: number) => void out.push(v),
    })((n: number) => {
      const a = (attempts.get(n) ?? 0) + 1;
      attempts.set(n, a);
      if (n === 1 && a < 3) throw new Error('transient');
      if (n === 2) throw new Error('permanent');
      return n;
    });
    const summary = await r.stream(opts);
    expect(out).toEqual([1, 3]);
    expect(attempts.get(1)).toBe(3);
    expect(attempts.get(2)).toBe(3);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toBeInstanceOf(DeadLetter);
    expect(letters[0]).toMatchObject({ snap: 'flaky', message: 2, attempts: 3 });
    expect(letters[0]!.error).toMatchObject({ code: 'SNOOPY_SNAP_HANDLER' });
    expect(JSON.parse(JSON.stringify(letters[0]))).toMatchObject({ error: { code: 'SNOOPY_SNAP_HANDLER' } });
    expect(summary.snaps.flaky).toMatchObject({ deadLettered: 1, retries: 4, errors: 1 });
  });

  it('stops after the last retry when there is no dead-letter sink', async () => {
    const r = new Registry();
    let calls = 0;
    r.snap([1], { errors: { retry: { attempts: 2, backoffMs: 0 } } })(() => {
      calls++;
      throw new Error('always');
    });
    await expect(r.stream(opts)).rejects.toMatchObject({ code: 'SNOOPY_SNAP_HANDLER' });
    expect(calls).toBe(2);
  });
});

/** An acknowledging, describing source over fixed items, as a Kafka topic would be. */
function ackSource(n: number, failAt?: number) {
  const acked: number[] = [];
  const state = { closed: false };
  const source = {
    async *[Symbol.asyncIterator]() {
      try {
        for (let i = 0; i < n; i++) {
          yield i === failAt ? new FailedItem(new Error('undecodable'), { topic: 'in', partition: 0, offset: i }, Buffer.from([0xff])) : i;
        }
      } finally {
        state.closed = true;
      }
    },
    [ack](item: unknown) {
      acked.push(item instanceof FailedItem ? (item.meta.offset as number) : (item as number));
    },
    [describe](item: unknown): MessageMeta {
      return { topic: 'in', partition: 0, offset: item as number };
    },
  };
  return { source, acked, state };
}

/** A sink that completes its deliveries later, in batches, as a Kafka producer would. */
function batchingSink() {
  const queued: [unknown, Completion][] = [];
  const written: unknown[] = [];
  let flushes = 0;
  const sink = {
    [deliver](value: unknown, completion: Completion) {
      queued.push([value, completion]);
      if (queued.length >= 3) setImmediate(() => complete());
    },
    async [flush]() {
      flushes++;
      complete();
    },
  };
  function complete(): void {
    for (const [value, completion] of queued.splice(0)) {
      written.push(value);
      completion.done();
    }
  }
  return { sink, written, flushes: () => flushes };
}

suite('stream(): acknowledgement and deferred completion', () => {
  it('acknowledges each message once, only after its handler and every sink finished, in any order', async () => {
    const r = new Registry();
    const { source, acked } = ackSource(20);
    const done = new Set<number>();
    const violations: number[] = [];
    const realAck = source[ack];
    source[ack] = (item: unknown) => {
      if (!done.has(item as number)) violations.push(item as number);
      realAck(item);
    };
    r.snap(source, {
      concurrency: 4,
      sink: async (v: number) => {
        for (let k = 0; k < (v * 7) % 5; k++) await tick();
        done.add(v);
      },
    })((n: number) => n);
    await r.stream(opts);
    expect(violations).toEqual([]);
    expect([...acked].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('acknowledges a message sent to a deferred sink only once the sink completes it, and waits for completions at the end', async () => {
    const r = new Registry();
    const { source, acked } = ackSource(10);
    const { sink, written, flushes } = batchingSink();
    const early: number[] = [];
    const realAck = source[ack];
    source[ack] = (item: unknown) => {
      if (!written.includes(item)) early.push(item as number);
      realAck(item);
    };
    r.snap(source, { sink })((n: number) => n);
    const summary = await r.stream(opts);
    expect(early).toEqual([]);
    expect(written).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(acked.sort((a, b) => a - b)).toEqual(written);
    expect(flushes()).toBeGreaterThanOrEqual(1);
    expect(summary.out).toBe(10);
  });

  it('acknowledges an item shared by two snaps only when both finished with it', async () => {
    const r = new Registry();
    const { source, acked } = ackSource(5);
    const slowDone: number[] = [];
    const violations: number[] = [];
    const realAck = source[ack];
    source[ack] = (item: unknown) => {
      if (!slowDone.includes(item as number)) violations.push(item as number);
      realAck(item);
    };
    r.snap(source)((n: number) => n);
    r.snap(source)(async (n: number) => {
      await tick();
      slowDone.push(n);
    });
    await r.stream(opts);
    expect(violations).toEqual([]);
    expect(acked).toHaveLength(5);
  });

  it('never acknowledges the message that stopped the stream, nor what came after it', async () => {
    const r = new Registry();
    const { source, acked, state } = ackSource(10);
    r.snap(source, { name: 'stopper' })((n: number) => {
      if (n === 4) throw new Error('bad record');
    });
    const error = await r.stream(opts).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SNOOPY_SNAP_HANDLER', location: { topic: 'in', partition: 0, offset: 4, snap: 'stopper' } });
    expect(acked).toEqual([0, 1, 2, 3]);
    expect(state.closed).toBe(true);
  });

  it('routes an item the source could not deliver through the error policy, with where it came from', async () => {
    const stopped = new Registry();
    const one = ackSource(4, 2);
    stopped.snap(one.source, { name: 'decode' })((n: number) => n);
    const error = await stopped.stream(opts).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SNOOPY_SOURCE_ITEM', snap: 'decode', location: { topic: 'in', offset: 2 } });
    expect(one.acked).toEqual([0, 1]);

    const lettered = new Registry();
    const two = ackSource(4, 2);
    const letters: DeadLetter[] = [];
    const handled: number[] = [];
    lettered.snap(two.source, { errors: { deadLetter: (l: DeadLetter) => void letters.push(l) } })((n: number) => void handled.push(n));
    await lettered.stream(opts);
    expect(handled).toEqual([0, 1, 3]);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.raw).toEqual(Buffer.from([0xff]));
    expect(letters[0]!.meta).toMatchObject({ offset: 2 });
    expect(two.acked.sort()).toEqual([0, 1, 2, 3]);
  });
});

/**
 * A read-ahead source as a Kafka consumer is: `next()` answers from a buffer filled in chunks of
 * 3 at the next turn, and `[take]` hands buffered items over synchronously (undefined when the
 * buffer is empty, so core falls back to `next()`).
 */
function takingSource(n: number) {
  const acked: number[] = [];
  const via = { take: 0, next: 0 };
  let fetched = 0;
  const buffer: number[] = [];
  const fill = () => {
    for (let k = 0; k < 3 && fetched < n; k++) buffer.push(fetched++);
  };
  const iterator = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next(): Promise<IteratorResult<number>> {
      if (buffer.length === 0) {
        if (fetched === n) return { done: true, value: undefined };
        await tick();
        fill();
      }
      via.next++;
      return { done: false, value: buffer.shift()! };
    },
    [take](): number | undefined {
      if (buffer.length === 0) return undefined;
      via.take++;
      return buffer.shift();
    },
    [ack](item: unknown) {
      acked.push(item as number);
    },
  };
  return { source: iterator, acked, via };
}

suite('stream(): sources that hand over buffered items synchronously ([take])', () => {
  it('takes buffered items without next(), falls back to next() when the buffer is empty, and acknowledges each once after its sink completed', async () => {
    const r = new Registry();
    const { source, acked, via } = takingSource(30);
    const { sink, written } = batchingSink();
    const handled: number[] = [];
    r.snap(source, { sink })((n: number) => {
      handled.push(n);
      return n;
    });
    const summary = await r.stream(opts);
    expect(handled).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(written).toEqual(handled);
    expect([...acked].sort((a, b) => a - b)).toEqual(handled);
    // Chunks of 3: the first item of each comes through next(), the other two through take.
    expect(via).toEqual({ next: 10, take: 20 });
    expect(summary.in).toBe(30);
  });

  it('serves a source bound to several snaps: each snap sees every item once, and each item is acknowledged once', async () => {
    const r = new Registry();
    const { source, acked, via } = takingSource(12);
    const a: number[] = [];
    const b: number[] = [];
    r.snap(source)((n: number) => void a.push(n));
    r.snap(source)(async (n: number) => {
      await tick();
      b.push(n);
    });
    await r.stream(opts);
    expect(a).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(b).toEqual(a);
    expect(acked).toHaveLength(12);
    expect(via.take).toBeGreaterThan(0);
    expect(via.take + via.next).toBe(12);
  });

  it('takes nothing more once the stream stops: what was taken is finished and acknowledged, the rest stays in the source', async () => {
    const r = new Registry();
    const { source, acked, via } = takingSource(1000);
    const stop = new AbortController();
    let handled = 0;
    r.snap(source)(async (n: number) => {
      handled++;
      if (n === 7) stop.abort();
      await tick();
    });
    await r.stream({ ...opts, signal: stop.signal }).catch(() => undefined);
    expect(via.take + via.next).toBe(handled);
    expect(handled).toBeLessThan(20);
    expect([...acked].sort((x, y) => x - y)).toEqual(Array.from({ length: handled }, (_, i) => i));
  });
});

suite('stream(): sinks opened at the start ([open])', () => {
  it('opens each sink once, before any source is read, without waiting for it', async () => {
    const r = new Registry();
    const events: string[] = [];
    const never = new Promise<void>(() => {});
    const sink = Object.assign((v: number) => void events.push(`sink ${v}`), {
      [open]: () => {
        events.push('open');
        return never; // still connecting: the stream does not wait for it
      },
    });
    async function* source(): AsyncGenerator<number> {
      events.push('read');
      yield 1;
      yield 2;
    }
    r.snap(source(), { sink })((n: number) => n);
    r.snap([3], { sink })((n: number) => n);
    await r.stream(opts);
    expect(events.filter((e) => e === 'open')).toHaveLength(1);
    expect(events[0]).toBe('open');
    expect(events).toEqual(expect.arrayContaining(['read', 'sink 1', 'sink 2', 'sink 3']));
  });

  it('fails the stream with SNOOPY_SNAP_SINK, naming its snaps, when [open] throws or rejects', async () => {
    for (const fault of ['throws', 'rejects'] as const) {
      const r = new Registry();
      const sink = Object.assign((_: number) => undefined, {
        [open]: () => {
          if (fault === 'throws') throw new Error('cannot open');
          return Promise.reject(new Error('cannot open'));
        },
      });
      r.snap(tracked([1, 2, 3], true).source, { sink, name: 'opener' })((n: number) => n);
      const error = await r.stream(opts).catch((e: unknown) => e);
      expect(error, fault).toBeInstanceOf(SnapError);
      expect(error, fault).toMatchObject({ code: 'SNOOPY_SNAP_SINK', snap: 'opener', cause: { message: 'cannot open' } });
    }
  });
});

suite('stream(): stopping', () => {
  it('on abort stops pulling, finishes in-flight messages, closes the source and resolves', async () => {
    const r = new Registry();
    const { source, state } = tracked([0], true);
    const controller = new AbortController();
    let started = 0;
    let finished = 0;
    r.snap(source, { concurrency: 3 })(async () => {
      started++;
      if (started === 10) controller.abort();
      await tick();
      finished++;
    });
    const summary = await r.stream({ ...opts, signal: controller.signal });
    expect(summary.reason).toBe('abort');
    expect(finished).toBe(started);
    expect(state.closed).toBe(true);
  });

  it('lets timers run while an async source answers from a buffer (no event-loop starvation)', { timeout: 20_000 }, async () => {
    for (const concurrency of [1, 2]) {
      const r = new Registry();
      async function* buffered(): AsyncGenerator<number> {
        for (let i = 0; ; i++) yield i; // resolves through microtasks only
      }
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 5);
      let handled = 0;
      r.snap(buffered(), { concurrency })(() => void handled++);
      const summary = await r.stream({ ...opts, signal: controller.signal });
      expect(summary.reason).toBe('abort');
      expect(handled).toBeGreaterThan(0);
    }
  });

  it('closes a sync iterator too when a sink fails', async () => {
    const r = new Registry();
    const state = { closed: false };
    function* gen(): Generator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        state.closed = true;
      }
    }
    r.snap(gen(), {
      sink: (v: number) => {
        if (v === 100) throw new Error('sink broke');
      },
    })((n: number) => n);
    await expect(r.stream(opts)).rejects.toMatchObject({ code: 'SNOOPY_SNAP_SINK' });
    expect(state.closed).toBe(true);
  });

  it('closes a generator handler (sync and async) when a sink fails on one of its values', async () => {
    const closed: string[] = [];
    const r = new Registry();
    r.snap([1], { name: 'sync', errors: 'skip', sink: (v: number) => { if (v === 2) throw new Error('no 2'); } })(function* () {
      try {
        yield 1;
        yield 2;
        yield 3;
      } finally {
        closed.push('sync');
      }
    });
    r.snap([1], { name: 'async', errors: 'skip', sink: async (v: number) => { if (v === 2) throw new Error('no 2'); } })(async function* () {
      try {
        yield 1;
        yield 2;
        yield 3;
      } finally {
        closed.push('async');
      }
    });
    const summary = await r.stream(opts);
    expect(closed.sort()).toEqual(['async', 'sync']);
    expect(summary.snaps.sync).toMatchObject({ out: 1, skipped: 1 });
    expect(summary.snaps.async).toMatchObject({ out: 1, skipped: 1 });
  });

  it("leaves the caller's sources and sinks open by default, and disposes them only when told to", async () => {
    const disposed: string[] = [];
    const sink = Object.assign((_: unknown) => undefined, { [Symbol.asyncDispose]: async () => void disposed.push('sink') });
    const source = Object.assign([1], { [Symbol.asyncDispose]: async () => void disposed.push('source') });
    const r = new Registry();
    r.snap(source, { sink })((n: number) => n);
    await r.stream(opts);
    expect(disposed).toEqual([]);
    r.snap(source, { sink })((n: number) => n);
    await r.stream({ ...opts, dispose: true });
    expect(disposed.sort()).toEqual(['sink', 'source']);
  });
});
