// The paths a message takes when something goes wrong: retries (order, lanes, what is retried),
// the stop after a failure (timers cancelled, no late handler calls), the bounded graceful stop,
// and sources whose return() fails. Every wait is bounded and fails with a message.
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe as suite, expect, it } from 'vitest';
import { within } from './within.js';
import {
  ack,
  deliver,
  describe,
  DeadLetter,
  Registry,
  SnoopyError,
  type Completion,
  type DeferredSink,
  type MessageMeta,
} from '@snoopy/core';

const quiet = pino({ level: 'silent' });
const opts = { handleSignals: false, logger: quiet, progress: false } as const;


/** Polls `condition` until it holds, failing with `what` after `ms`. */
async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A logger whose JSON lines are kept. */
function recording(level = 'debug'): { logger: pino.Logger; lines: () => Record<string, any>[] } {
  const raw: string[] = [];
  const logger = pino({ level }, { write: (l: string) => void raw.push(l) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, any>) };
}

/** An async source that counts how far it was pulled. */
function counted<T>(items: readonly T[]): { source: AsyncIterable<T>; pulled: () => number } {
  let pulled = 0;
  return {
    source: (async function* () {
      for (const item of items) {
        pulled++;
        yield item;
      }
    })(),
    pulled: () => pulled,
  };
}

/** A source whose items all have the same key, so they share one ordering lane. */
function keyed<T>(items: readonly T[], key: string): AsyncIterable<T> & { [describe](item: T): MessageMeta } {
  return {
    async *[Symbol.asyncIterator]() {
      yield* items;
    },
    [describe]: () => ({ key }),
  };
}

suite('retries keep order and capacity', () => {
  it('the plain path retries a message before the next one: input order kept, nothing pulled meanwhile', async () => {
    const r = new Registry();
    const { source, pulled } = counted([0, 1, 2, 3, 4]);
    const calls: [number, number][] = [];
    const out: number[] = [];
    const failed = new Set<number>();
    r.snap(source, { sink: (v: number) => void out.push(v), errors: { retry: { attempts: 2, backoffMs: 30 } } })((n: number) => {
      calls.push([n, pulled()]);
      // Every message fails its first attempt: retries must not pile up or overtake.
      if (!failed.has(n)) {
        failed.add(n);
        throw new Error(`first attempt of ${n}`);
      }
      return n;
    });
    const summary = await within(r.stream(opts), 20_000, 'stream()');
    expect(out).toEqual([0, 1, 2, 3, 4]);
    // Each message's retry ran before the next message was pulled.
    expect(calls).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4].map((n) => [n, n + 1]));
    expect(summary.snaps[Object.keys(summary.snaps)[0]!]).toMatchObject({ retries: 5, errors: 0 });
  });

  it('an async handler on the plain path: the failing message is retried in place', async () => {
    const r = new Registry();
    const { source, pulled } = counted([0, 1, 2, 3, 4]);
    const out: number[] = [];
    let maxPulledDuringRetry = 0;
    let failedOnce = false;
    r.snap(source, { sink: (v: number) => void out.push(v), errors: { retry: { attempts: 2, backoffMs: 30 } } })(async (n: number) => {
      if (n === 0) {
        if (!failedOnce) {
          failedOnce = true;
          throw new Error('once');
        }
        maxPulledDuringRetry = pulled();
      }
      return n;
    });
    await within(r.stream(opts), 20_000, 'stream()');
    expect(out).toEqual([0, 1, 2, 3, 4]);
    expect(maxPulledDuringRetry).toBe(1);
  });

  it('under concurrency, a retried message keeps its key lane: later messages of the key wait for it', async () => {
    const r = new Registry();
    const out: number[] = [];
    let failedOnce = false;
    r.snap(keyed([0, 1, 2, 3], 'k'), { concurrency: 2, sink: (v: number) => void out.push(v), errors: { retry: { attempts: 2, backoffMs: 30 } } })(
      async (n: number) => {
        if (n === 0 && !failedOnce) {
          failedOnce = true;
          throw new Error('once');
        }
        return n;
      },
    );
    await within(r.stream(opts), 20_000, 'stream()');
    expect(out).toEqual([0, 1, 2, 3]);
  });

  it('under concurrency without keys, a retried message keeps input order and the limit holds', async () => {
    const r = new Registry();
    const out: number[] = [];
    let running = 0;
    let most = 0;
    const failed = new Set<number>();
    r.snap(
      Array.from({ length: 12 }, (_, i) => i),
      { concurrency: 3, sink: (v: number) => void out.push(v), errors: { retry: { attempts: 3, backoffMs: 5 } } },
    )(async (n: number) => {
      running++;
      most = Math.max(most, running);
      await sleep(1);
      running--;
      if (n % 4 === 1 && !failed.has(n)) {
        failed.add(n);
        throw new Error(`first attempt of ${n}`);
      }
      return n;
    });
    await within(r.stream(opts), 20_000, 'stream()');
    expect(out).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(most).toBeLessThanOrEqual(3);
  });
});

suite('the plain window (concurrency > 1, nothing to acknowledge)', () => {
  it('keeps input order over an async source, skips failures in place and finishes the window at the end', async () => {
    const r = new Registry();
    const { source, pulled } = counted(Array.from({ length: 40 }, (_, i) => i));
    const out: number[] = [];
    let running = 0;
    let most = 0;
    let maxAhead = 0;
    r.snap(source, { concurrency: 4, errors: 'skip', sink: (v: number) => void out.push(v) })(async (n: number) => {
      running++;
      most = Math.max(most, running);
      maxAhead = Math.max(maxAhead, pulled() - out.length);
      for (let k = 0; k < (n * 7) % 5; k++) await sleep(0);
      running--;
      if (n % 10 === 3) throw new Error(`bad ${n}`);
      return n;
    });
    const summary = await within(r.stream(opts), 20_000, 'stream()');
    const expected = Array.from({ length: 40 }, (_, i) => i).filter((n) => n % 10 !== 3);
    expect(out).toEqual(expected);
    expect(summary).toMatchObject({ in: 40, out: 36, errors: 4 });
    expect(most).toBeLessThanOrEqual(4);
    // Never more than the window (plus the item being pulled, plus skipped ones) ahead of the sink.
    expect(maxAhead).toBeLessThanOrEqual(4 + 1 + 4);
  });

  it('on abort finishes what is in the window, in order, and resolves', async () => {
    const r = new Registry();
    const controller = new AbortController();
    const out: number[] = [];
    let started = 0;
    r.snap(
      (async function* () {
        for (let i = 0; ; i++) yield i;
      })(),
      { concurrency: 8, sink: (v: number) => void out.push(v) },
    )(async (n: number) => {
      started++;
      if (started === 50) controller.abort();
      await sleep(1);
      return n;
    });
    const summary = await within(r.stream({ ...opts, signal: controller.signal }), 20_000, 'stream()');
    expect(summary.reason).toBe('abort');
    expect(out).toEqual(Array.from({ length: started }, (_, i) => i));
  });
});

suite('what is retried', () => {
  it('does not retry an error that says it is not retriable', async () => {
    const r = new Registry();
    const letters: DeadLetter[] = [];
    let calls = 0;
    r.snap([1], { errors: { retry: { attempts: 4, backoffMs: 1 }, deadLetter: (l: DeadLetter) => void letters.push(l) } })(() => {
      calls++;
      throw new SnoopyError('SNOOPY_CODEC_ENCODE', 'cannot encode');
    });
    const summary = await within(r.stream(opts), 20_000, 'stream()');
    expect(calls).toBe(1);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.attempts).toBe(1);
    expect(summary.snaps[Object.keys(summary.snaps)[0]!]).toMatchObject({ retries: 0, deadLettered: 1 });
  });

  it('does not retry a sink that fails with a non-retriable error, and reports it with the sink code', async () => {
    const r = new Registry();
    let sinkCalls = 0;
    r.snap([1], {
      sink: () => {
        sinkCalls++;
        throw new SnoopyError('SNOOPY_CODEC_ENCODE', 'bad record');
      },
      errors: { retry: { attempts: 3, backoffMs: 1 } },
    })((n: number) => n);
    await expect(within(r.stream(opts), 20_000, 'stream()')).rejects.toMatchObject({ code: 'SNOOPY_SNAP_SINK' });
    expect(sinkCalls).toBe(1);
  });

  it('retries a failed plain sink without running the handler again, resuming where emission stopped', async () => {
    const r = new Registry();
    const handled: number[] = [];
    const first: string[] = [];
    const second: string[] = [];
    let failures = 0;
    r.snap([1, 2], {
      sink: [
        (v: string) => void first.push(v),
        async (v: string) => {
          if (v === '1b' && failures++ === 0) throw new Error('second sink down once');
          second.push(v);
        },
      ],
      errors: { retry: { attempts: 3, backoffMs: 5 } },
    })(function* (n: number) {
      handled.push(n);
      yield `${n}a`;
      yield `${n}b`;
    });
    const summary = await within(r.stream(opts), 20_000, 'stream()');
    expect(handled).toEqual([1, 2]);
    // Nothing is sent twice: the retry resumed at value 1b, second sink.
    expect(first).toEqual(['1a', '1b', '2a', '2b']);
    expect(second).toEqual(['1a', '1b', '2a', '2b']);
    expect(summary.out).toBe(4);
    expect(summary.snaps[Object.keys(summary.snaps)[0]!]).toMatchObject({ retries: 1, errors: 0 });
  });

  it('retries a deferred sink that completes with a failure by delivering to it again, not by re-running the handler', async () => {
    const r = new Registry();
    const handled: number[] = [];
    const plain: number[] = [];
    const durable: number[] = [];
    let failures = 0;
    const deferredSink: DeferredSink<number> = {
      [deliver](value: number, completion: Completion) {
        setImmediate(() => {
          if (value === 2 && failures++ < 2) completion.fail(new Error('not durable this time'));
          else {
            durable.push(value);
            completion.done();
          }
        });
      },
    };
    const acked: number[] = [];
    const source = { *[Symbol.iterator]() { yield* [1, 2, 3]; }, [ack]: (n: number) => void acked.push(n) };
    r.snap(source, { sink: [(v: number) => void plain.push(v), deferredSink], errors: { retry: { attempts: 3, backoffMs: 5 } } })((n: number) => {
      handled.push(n);
      return n;
    });
    const summary = await within(r.stream(opts), 20_000, 'stream()');
    expect(handled).toEqual([1, 2, 3]);
    expect(plain).toEqual([1, 2, 3]);
    expect(durable.sort()).toEqual([1, 2, 3]);
    expect(acked.sort()).toEqual([1, 2, 3]);
    expect(summary.snaps[Object.keys(summary.snaps)[0]!]).toMatchObject({ retries: 2, errors: 0 });
  });
});

suite("errors: 'stop'", () => {
  it('cancels batch and retry timers, calls no handler after stream() rejected, and does not wait out closeTimeoutMs', async () => {
    const r = new Registry();
    let rejected = false;
    const late: string[] = [];
    // A well-behaved source that waits for data until it is closed (as a Kafka Topic does).
    let closed = false;
    let wake: () => void = () => {};
    const batchedSource: AsyncIterable<number> = {
      [Symbol.asyncIterator]() {
        let n = 0;
        return {
          next: async () => {
            if (n < 3) return { done: false, value: n++ };
            await new Promise<void>((resolve) => (wake = resolve));
            return { done: true, value: undefined };
          },
          return: async () => {
            closed = true;
            wake();
            return { done: true, value: undefined };
          },
        };
      },
    };
    r.snap(batchedSource, { name: 'batched', batch: { size: 100, ms: 150 } })((batch: number[]) => {
      if (rejected) late.push(`batched ${batch.join(',')}`);
    });
    let retried = 0;
    r.snap(['r'], { name: 'retrying', errors: { retry: { attempts: 10, backoffMs: 100 } } })(() => {
      if (rejected) late.push('retrying');
      retried++;
      throw new Error('always');
    });
    async function* failing(): AsyncGenerator<number> {
      // Fail once the other snaps have a partial batch and a retry timer waiting.
      const deadline = Date.now() + 15_000;
      while (retried === 0 && Date.now() < deadline) await sleep(5);
      yield 1;
    }
    r.snap(failing(), { name: 'failing' })(() => {
      throw new Error('fatal');
    });

    const error = await within(
      r.stream({ ...opts, closeTimeoutMs: 600_000 }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      20_000,
      'stream() to reject without waiting out closeTimeoutMs',
    );
    rejected = true;
    expect(error).toMatchObject({ code: 'SNOOPY_SNAP_HANDLER', snap: 'failing' });
    expect(closed).toBe(true);
    const retriedAtReject = retried;
    // Longer than the batch timer (150 ms) and the next retry backoffs: none of them may fire.
    await sleep(600);
    expect(late).toEqual([]);
    expect(retried).toBe(retriedAtReject);
  });

  it('logs the failure nowhere at error level: it is thrown (log or throw, not both)', async () => {
    const r = new Registry();
    const { logger, lines } = recording('info');
    r.snap([1])(() => {
      throw new Error('thrown once');
    });
    await expect(within(r.stream({ ...opts, logger }), 20_000, 'stream()')).rejects.toMatchObject({ code: 'SNOOPY_SNAP_HANDLER' });
    expect(lines().filter((l) => l.level >= 50)).toEqual([]);
    expect(lines().some((l) => l.msg === 'stream stopping')).toBe(true);
  });
});

suite('graceful stop', () => {
  it('bounds the whole drain, handlers in flight included: logs what it waits for, then rejects with SNOOPY_TIMEOUT', async () => {
    const r = new Registry();
    const controller = new AbortController();
    const { logger, lines } = recording('info');
    let started = 0;
    const acked: number[] = [];
    const source = {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; ; i++) {
          yield i;
          await sleep(1);
        }
      },
      [ack]: (n: number) => void acked.push(n),
    };
    r.snap(source, { name: 'stuck', concurrency: 2 })(async (n: number) => {
      started++;
      if (n === 1) await new Promise(() => {}); // never returns
      return n;
    });
    const running = r.stream({ ...opts, logger, signal: controller.signal, closeTimeoutMs: 300 });
    running.catch(() => undefined);
    await until(() => started >= 2, 15_000, 'two handler calls');
    controller.abort();
    const error = await within(
      running.then(
        () => undefined,
        (e: unknown) => e,
      ),
      20_000,
      'the bounded stop',
    );
    expect(error).toMatchObject({ code: 'SNOOPY_TIMEOUT' });
    expect((error as Error).message).toContain('stuck');
    const stopping = lines().find((l) => l.msg === 'stream stopping');
    expect(stopping).toMatchObject({ reason: 'abort', timeoutMs: 300 });
    expect(stopping!.waitingFor.stuck.handlers).toBeGreaterThanOrEqual(1);
    // The stuck message is not acknowledged, nor anything after it.
    expect(acked.includes(1)).toBe(false);
  });

  it('still finishes in-flight work that completes within the bound and resolves', async () => {
    const r = new Registry();
    const controller = new AbortController();
    const done: number[] = [];
    let started = 0;
    r.snap(
      (async function* () {
        for (let i = 0; ; i++) yield i;
      })(),
      { concurrency: 2, sink: (n: number) => void done.push(n) },
    )(async (n: number) => {
      started++;
      await sleep(20);
      return n;
    });
    const running = r.stream({ ...opts, signal: controller.signal, closeTimeoutMs: 30_000 });
    await until(() => started >= 2, 15_000, 'two handler calls');
    controller.abort();
    const summary = await within(running, 20_000, 'stream() to resolve');
    expect(summary.reason).toBe('abort');
    expect(done).toEqual(Array.from({ length: started }, (_, i) => i));
  });
});

suite('closing sources', () => {
  it('surfaces a source whose return() rejects, instead of dropping it', async () => {
    const r = new Registry();
    const controller = new AbortController();
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => {
        let n = 0;
        return {
          next: async () => {
            await sleep(1);
            return { done: false, value: n++ };
          },
          return: async () => {
            throw new Error('cannot commit on close');
          },
        };
      },
    };
    let seen = 0;
    r.snap(source, { name: 'closing' })(() => {
      if (++seen === 3) controller.abort();
    });
    await expect(within(r.stream({ ...opts, signal: controller.signal }), 20_000, 'stream()')).rejects.toMatchObject({
      code: 'SNOOPY_SOURCE_FAILED',
      snap: 'closing',
      cause: { message: 'cannot commit on close' },
    });
  });

  it('surfaces a sync iterator whose return() throws', async () => {
    const r = new Registry();
    const source: Iterable<number> = {
      [Symbol.iterator]: () => ({
        next: () => ({ done: false, value: 1 }),
        return: () => {
          throw new Error('close failed');
        },
      }),
    };
    r.snap(source, { name: 'sync-closing' })(() => {
      throw new Error('stop now');
    });
    // The handler failure comes first and is what stream() rejects with; the close failure does not hide it.
    await expect(within(r.stream(opts), 20_000, 'stream()')).rejects.toMatchObject({ code: 'SNOOPY_SNAP_HANDLER' });
  });
});

suite('one emission path for stream() and direct calls', () => {
  function* values(n: number): Generator<unknown> {
    yield undefined;
    yield n;
    yield undefined;
    yield null;
  }

  it('a generator yielding undefined: both skip it, both send null', async () => {
    const r = new Registry();
    const sent: unknown[] = [];
    const h = r.snap([1], { sink: (v: unknown) => void sent.push(v) })(values);
    expect(await h(5)).toEqual([5, null]);
    expect(sent).toEqual([5, null]);
    sent.length = 0;
    const summary = await within(r.stream(opts), 20_000, 'stream()');
    expect(sent).toEqual([1, null]);
    expect(summary.out).toBe(2);
  });

  it('an async generator yielding undefined: both skip it', async () => {
    const r = new Registry();
    const sent: unknown[] = [];
    const h = r.snap([2], { sink: (v: unknown) => void sent.push(v) })(async function* (n: number) {
      yield undefined;
      yield n;
    });
    expect(await h(7)).toEqual([7]);
    await within(r.stream(opts), 20_000, 'stream()');
    expect(sent).toEqual([7, 2]);
  });

  it('a direct call waits for a deferred sink to complete, and rejects when it fails', async () => {
    const r = new Registry();
    const durable: number[] = [];
    const sink: DeferredSink<number> = {
      [deliver](value: number, completion: Completion) {
        setImmediate(() => {
          if (value < 0) completion.fail(new Error('negative'));
          else {
            durable.push(value);
            completion.done();
          }
        });
      },
    };
    const h = r.snap([1], { sink })((n: number) => n);
    expect(await h(3)).toEqual([3]);
    expect(durable).toEqual([3]);
    await expect(h(-1)).rejects.toThrow('negative');
    r.clear();
  });
});
