import { ClosedError, AbortError, deliver, flush, rootLogger, type Completion, type DeferredSink, type Flushing, type Logger, type SnoopyError } from '@snoopy/core';
import { resolveBufferedWriterOptions, fail, type BufferedWriterOptions, type ResolvedBufferedWriterOptions } from './options.js';
import { RecordTooLargeError, SendError, UnsentError } from './errors.js';
import { backoffDelay, brief, isRetriable, sleep } from './internal/backoff.js';
import { Listeners, type Unsubscribe } from './internal/listeners.js';

/** One batch handed to `send`. */
export interface Batch<T> {
  readonly records: readonly T[];
  /** Encoded size: every record encoded, joined by `\n` (never more than `maxBytes`). */
  readonly bytes: number;
  /** The encoded records joined by `\n` (NDJSON), built on first access. */
  readonly body: Buffer;
}

export interface SendContext {
  /** Aborted when `close()` runs out of time: stop sending. */
  readonly signal: AbortSignal;
  /** 1 for the first try of this batch. */
  readonly attempt: number;
}

/** The user's function that ships one batch; a rejection with `retriable: false` is not retried. */
export type Send<T, R = unknown> = (batch: Batch<T>, context: SendContext) => R | Promise<R>;

/** Events of a buffered writer and what their listeners receive. */
export interface WriterEvents<T, R = unknown> {
  /** Before each try of a batch. */
  send: { readonly batch: Batch<T>; readonly attempt: number };
  /** After a batch was sent, with what `send` returned. */
  flush: { readonly batch: Batch<T>; readonly result: R; readonly attempts: number };
  /** A batch failed for good; its records fail (a snap dead-letters them) right after. */
  error: { readonly batch: Batch<T>; readonly error: SendError };
  /** A try failed and the batch will be tried again after `delayMs`. */
  retry: { readonly batch: Batch<T>; readonly error: unknown; readonly attempt: number; readonly delayMs: number };
  /** Records given up: too large, failed for good, or unsent at close. */
  drop: { readonly records: readonly T[]; readonly error: SnoopyError };
}

export interface WriterStats {
  /** Records sent. */
  readonly sent: number;
  readonly batches: number;
  /** Encoded bytes sent. */
  readonly bytes: number;
  readonly retries: number;
  /** Records given up (too large, failed for good, unsent at close). */
  readonly dropped: number;
  /** Records held right now: buffered, queued or being sent. */
  readonly held: number;
}

export interface CloseOptions {
  /** Longest wait for the buffer and sends in flight; what is left then fails with `SNOOPY_CONNECT_UNSENT`. @default 10_000 */
  readonly timeoutMs?: number;
}

/** What `close()` could not send. */
export interface CloseReport<T> {
  /** Records not confirmed sent (never sent, or their send was still in flight at the timeout). */
  readonly unsent: readonly T[];
}

interface Pending<T> {
  readonly records: T[];
  readonly chunks: (string | Uint8Array)[];
  readonly completions: Completion[];
  bytes: number;
  /** Its completions were called (sent, failed, or given up at close). */
  finished: boolean;
  settle: (() => void) | undefined;
  settled: Promise<void> | undefined;
}

class BatchView<T> implements Batch<T> {
  private encoded: Buffer | undefined;
  constructor(private readonly pending: Pending<T>) {}
  get records(): readonly T[] {
    return this.pending.records;
  }
  get bytes(): number {
    return this.pending.bytes;
  }
  get body(): Buffer {
    if (this.encoded === undefined) {
      const parts: Buffer[] = [];
      const newline = Buffer.from('\n');
      this.pending.chunks.forEach((c, i) => {
        if (i > 0) parts.push(newline);
        parts.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength));
      });
      this.encoded = Buffer.concat(parts);
    }
    return this.encoded;
  }
}

const noop = (): void => {};

const json = (record: unknown): string => {
  const text = JSON.stringify(record);
  if (text === undefined) throw new TypeError(`record ${String(record)} has no JSON form`);
  return text;
};

/**
 * A sink that ships records in batches through `send`. In a snap it is a deferred sink: each
 * message is acknowledged once the batch holding it was sent. Alone, `await write(record)`
 * resolves at the same moment.
 */
export class BufferedWriter<T = unknown, R = unknown> implements DeferredSink<T>, Flushing, AsyncDisposable {
  readonly options: ResolvedBufferedWriterOptions<T>;
  private readonly logger: Logger;
  private readonly listeners = new Listeners<WriterEvents<T, R>>();
  private readonly encode: (record: T) => string | Uint8Array;
  private readonly abort = new AbortController();
  private readonly maxBytes: number;
  private readonly maxRecords: number;

  private current: Pending<T> | null = null;
  private readonly queue: Pending<T>[] = [];
  private readonly unsettled = new Set<Pending<T>>();
  private inFlight = 0;
  private held = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Writes waiting for room, oldest first from `spaceHead` (a queue without shifting). */
  private spaceWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private spaceHead = 0;
  private closed = false;
  private closing: Promise<CloseReport<T>> | undefined;
  private counters = { sent: 0, batches: 0, bytes: 0, retries: 0, dropped: 0 };

  constructor(
    private readonly send: Send<T, R>,
    options?: BufferedWriterOptions<T>,
  ) {
    if (typeof send !== 'function') fail('bufferedWriter', 'send', 'a function', send);
    this.options = resolveBufferedWriterOptions(options);
    this.encode = this.options.encode ?? json;
    this.maxBytes = this.options.maxBytes;
    this.maxRecords = this.options.maxRecords;
    this.logger = (this.options.logger ?? rootLogger()).child({ component: 'writer', writer: this.options.name });
  }

  /** Subscribes to an event; returns the function that unsubscribes. A listener that throws is logged. */
  on<E extends keyof WriterEvents<T, R>>(event: E, listener: (payload: WriterEvents<T, R>[E]) => void): Unsubscribe {
    return this.listeners.on(event, listener);
  }

  stats(): WriterStats {
    return { ...this.counters, held: this.held };
  }

  /** Core's deferred-sink protocol: takes the record now, completes it once its batch was sent. */
  [deliver](record: T, completion: Completion): void | Promise<void> {
    if (this.closed) throw new ClosedError(`Writer ${this.options.name}`);
    this.add(record, completion);
    // The record is taken either way (its completion reports its fate), so this wait never
    // rejects: a close() while core waits here just lets core go on.
    if (this.held >= this.options.maxBuffered) return this.waitForSpace(undefined).then(undefined, noop);
  }

  /** Buffers one record; resolves once its batch was sent, rejects if it never will be. */
  async write(record: T, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.closed) throw new ClosedError(`Writer ${this.options.name}`);
    // Waiters woken together may fill the space again before this one runs: check again.
    while (this.held >= this.options.maxBuffered) {
      await this.waitForSpace(options.signal);
      if (this.closed) throw new ClosedError(`Writer ${this.options.name}`);
    }
    return new Promise<void>((resolve, reject) => this.add(record, { done: resolve, fail: reject }));
  }

  /** Sends what is buffered now and waits for it and for every send already in flight. */
  async flush(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.current !== null) this.cut();
    const waits = [...this.unsettled].map((p) => this.settledOf(p));
    if (waits.length === 0) return;
    const all = Promise.all(waits).then(() => undefined);
    const signal = options.signal;
    if (signal === undefined) return all;
    if (signal.aborted) throw new AbortError(`Writer ${this.options.name} flush`, signal.reason);
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        all,
        new Promise<never>((_, reject) => {
          onAbort = () => reject(new AbortError(`Writer ${this.options.name} flush`, signal.reason));
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** Core calls this when a stream drains (also on SIGTERM): send everything now. */
  [flush](): Promise<void> {
    return this.flush();
  }

  /**
   * Flushes, then refuses new records (`SNOOPY_CLOSED`). Records still unsent after `timeoutMs`
   * fail with `SNOOPY_CONNECT_UNSENT` and are listed in the report. Idempotent; concurrent
   * callers share one close.
   */
  close(options: CloseOptions = {}): Promise<CloseReport<T>> {
    if (this.closing !== undefined) return this.closing;
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) fail('close', 'timeoutMs', 'a number >= 0', timeoutMs);
    this.closed = true;
    this.closing = this.shutdown(timeoutMs);
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(timeoutMs: number): Promise<CloseReport<T>> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          timedOut = true;
          resolve();
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    const unsent: T[] = [];
    if (timedOut) {
      this.abort.abort(new UnsentError(this.options.name, timeoutMs));
      const error = new UnsentError(this.options.name, timeoutMs);
      for (const p of [...this.unsettled]) {
        unsent.push(...p.records);
        this.giveUp(p, error);
      }
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.spaceWaiters.slice(this.spaceHead);
    this.spaceWaiters = [];
    this.spaceHead = 0;
    for (const w of waiting) w.reject(new ClosedError(`Writer ${this.options.name}`));
    // Not logged: each unsent record fails its message (or its write()) and the report lists them.
    return { unsent };
  }

  private add(record: T, completion: Completion): void {
    let chunk: string | Uint8Array;
    try {
      chunk = this.encode(record);
    } catch (error) {
      completion.fail(error);
      return;
    }
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    const maxBytes = this.maxBytes;
    if (size > maxBytes) {
      const error = new RecordTooLargeError(this.options.name, size, maxBytes);
      this.counters.dropped++;
      if (this.listeners.has('drop')) this.listeners.emit('drop', { records: [record], error }, this.logger);
      completion.fail(error);
      return;
    }
    let b = this.current;
    if (b !== null && b.bytes + 1 + size > maxBytes) {
      this.cut();
      b = null;
    }
    if (b === null) {
      b = { records: [], chunks: [], completions: [], bytes: -1, finished: false, settle: undefined, settled: undefined };
      this.current = b;
      this.unsettled.add(b);
      this.timer = setTimeout(this.onTimer, this.options.maxDelayMs);
    }
    b.records.push(record);
    b.chunks.push(chunk);
    b.completions.push(completion);
    b.bytes += 1 + size;
    this.held++;
    if (b.records.length >= this.maxRecords || b.bytes >= maxBytes) this.cut();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.current !== null) this.cut();
  };

  /** Closes the current batch and queues it for sending. */
  private cut(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const b = this.current!;
    this.current = null;
    this.queue.push(b);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const b = this.queue.shift()!;
      if (b.finished) continue;
      this.inFlight++;
      void this.sendBatch(b);
    }
  }

  private async sendBatch(b: Pending<T>): Promise<void> {
    const batch = new BatchView(b);
    const { attempts, backoffMs, maxBackoffMs } = this.options;
    const signal = this.abort.signal;
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.listeners.has('send')) this.listeners.emit('send', { batch, attempt }, this.logger);
        let result: R;
        try {
          result = await this.send(batch, { signal, attempt });
        } catch (error) {
          if (b.finished) return;
          if (!isRetriable(error) || attempt >= attempts || signal.aborted) {
            const failure = new SendError(this.options.name, b.records.length, attempt, error);
            if (this.listeners.has('error')) this.listeners.emit('error', { batch, error: failure }, this.logger);
            this.giveUp(b, failure);
            return;
          }
          const delayMs = backoffDelay(attempt, backoffMs, maxBackoffMs);
          this.counters.retries++;
          this.logger.warn({ ...brief(error), attempt, delayMs, records: b.records.length }, 'batch send failed, retrying');
          this.logger.debug({ err: error }, 'batch send failure');
          if (this.listeners.has('retry')) this.listeners.emit('retry', { batch, error, attempt, delayMs }, this.logger);
          try {
            await sleep(delayMs, signal, `Writer ${this.options.name} backoff`);
          } catch {
            return; // close() timed out and gave the batch up
          }
          if (b.finished) return;
          continue;
        }
        if (b.finished) return;
        this.counters.sent += b.records.length;
        this.counters.batches++;
        this.counters.bytes += b.bytes;
        if (this.listeners.has('flush')) this.listeners.emit('flush', { batch, result, attempts: attempt }, this.logger);
        this.finish(b);
        for (const c of b.completions) c.done();
        return;
      }
    } finally {
      this.inFlight--;
      this.pump();
    }
  }

  /** Fails every record of a batch with `error`. */
  private giveUp(b: Pending<T>, error: SnoopyError): void {
    if (b.finished) return;
    if (this.current === b) {
      this.current = null;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.counters.dropped += b.records.length;
    if (this.listeners.has('drop')) this.listeners.emit('drop', { records: b.records, error }, this.logger);
    this.finish(b);
    for (const c of b.completions) c.fail(error);
  }

  private finish(b: Pending<T>): void {
    b.finished = true;
    this.unsettled.delete(b);
    this.held -= b.records.length;
    b.settle?.();
    // Wake as many waiters as there is room for (each adds one record), not the whole queue.
    let room = this.options.maxBuffered - this.held;
    const queue = this.spaceWaiters;
    while (room-- > 0 && this.spaceHead < queue.length) {
      const w = queue[this.spaceHead]!;
      queue[this.spaceHead++] = undefined as never;
      w.resolve();
    }
    if (this.spaceHead === queue.length) {
      this.spaceWaiters = [];
      this.spaceHead = 0;
    } else if (this.spaceHead > 1024 && this.spaceHead * 2 > queue.length) {
      this.spaceWaiters = queue.slice(this.spaceHead);
      this.spaceHead = 0;
    }
  }

  private settledOf(b: Pending<T>): Promise<void> {
    b.settled ??= new Promise<void>((resolve) => (b.settle = resolve));
    return b.settled;
  }

  private wakeOne(): void {
    if (this.held >= this.options.maxBuffered || this.spaceHead >= this.spaceWaiters.length) return;
    const w = this.spaceWaiters[this.spaceHead]!;
    this.spaceWaiters[this.spaceHead++] = undefined as never;
    w.resolve();
  }

  private waitForSpace(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError(`Writer ${this.options.name} write`, signal.reason));
      let cancelled = false;
      const onAbort = (): void => {
        cancelled = true;
        reject(new AbortError(`Writer ${this.options.name} write`, signal!.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.spaceWaiters.push({
        // An aborted waiter stays queued; woken, it passes its turn on.
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          if (cancelled) this.wakeOne();
          else resolve();
        },
        reject: (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
    });
  }

}

/** A `BufferedWriter` around `send`: see its options for the flush triggers. */
export function bufferedWriter<T = unknown, R = unknown>(send: Send<T, R>, options?: BufferedWriterOptions<T>): BufferedWriter<T, R> {
  return new BufferedWriter<T, R>(send, options);
}
