import {
  AbortError,
  ClosedError,
  OptionsError,
  SnoopyError,
  deliver,
  describeValue,
  flush,
  rootLogger,
  type Completion,
  type DeferredSink,
  type Flushing,
  type Logger,
} from '@snoopy/core';
import { FeedEventError, FeedStoreError } from './errors.js';
import { ALL_INDEX, indexesOf, indexesOfFilters } from './internal/index-keys.js';
import { MAX_POSITION, mergeNewest } from './internal/order.js';
import { resolveFeedOptions, type FeedOptions, type ResolvedFeedOptions } from './options.js';
import type { FeedStore, NewRecord } from './store.js';
import type { Cursor, FeedEntry, FeedStats, Filters } from './types.js';

/** Options of `insert(event, options)`. */
export interface InsertOptions {
  /** When the event happened, ms since the epoch (or a Date). @default now */
  readonly at?: number | Date;
  /** Stops waiting (the event may still be stored). @default undefined */
  readonly signal?: AbortSignal;
}

/** Options of `items(filters, options)`: the page `[start, end)` of the matching events, newest first. */
export interface ItemsOptions {
  /** @default 0 */
  readonly start?: number;
  /** At most `maxPageEnd` (10 000): page deeper with `scan()`. @default 20 */
  readonly end?: number;
  /** @default undefined */
  readonly signal?: AbortSignal;
}

/** Options of `scan(filters, options)`. */
export interface ScanOptions {
  /** Start strictly after (older than) this position, e.g. the last entry of a previous page. @default undefined (the newest) */
  readonly before?: Cursor;
  /** Yield at most this many entries. @default Infinity */
  readonly limit?: number;
  /** Positions read from each index per round trip. @default 100 */
  readonly pageSize?: number;
  /** Stops the scan with `SNOOPY_ABORTED`. @default undefined */
  readonly signal?: AbortSignal;
}

/** Options of `count(filters, options)`. */
export interface CountOptions {
  /** @default undefined */
  readonly signal?: AbortSignal;
}

/** The deepest `end` of `items()`; deeper pages come from `scan({ before })` without offsets. */
export const maxPageEnd = 10_000;

interface Pending {
  readonly record: NewRecord;
  readonly completion: Completion | undefined;
  readonly resolve: ((id: string) => void) | undefined;
  readonly reject: ((error: unknown) => void) | undefined;
}

function checkSignal(signal: AbortSignal | undefined, what: string): void {
  if (signal === undefined) return;
  if (!(signal instanceof AbortSignal)) throw new OptionsError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}`);
  if (signal.aborted) throw new AbortError(what, signal.reason);
}

function optionsObject(what: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError(`Expected ${what} options to be an object, got ${describeValue(options)}`);
  }
  return options as Record<string, unknown>;
}

function intOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError(`Expected \`${name}\` to be an integer >= ${min} and <= ${max}, got ${describeValue(value)}`);
  }
  return value;
}

function checkCursor(value: unknown): Cursor | undefined {
  if (value === undefined) return undefined;
  const c = value as Partial<Cursor> | null;
  const ok = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_POSITION;
  if (typeof c !== 'object' || c === null || !ok(c.at) || !ok(c.seq)) {
    throw new OptionsError(`Expected \`before\` to be a position { at, seq } (integers >= 0), got ${describeValue(value)}`);
  }
  return { at: c.at!, seq: c.seq! };
}

function wrapStoreError(store: FeedStore, what: string, error: unknown): SnoopyError {
  return error instanceof SnoopyError ? error : new FeedStoreError(store.name, what, { cause: error });
}

/** Races `promise` with `signal`; the operation itself goes on. */
function withSignal<V>(promise: Promise<V>, signal: AbortSignal | undefined, what: string): Promise<V> {
  if (signal === undefined) return promise;
  return new Promise<V>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError(what, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A feed of events, queried newest first by indexed keys. Create it with `feed(options)`.
 * It is a deferred sink (`@snap(source, { sink: [f] })`): a message is acknowledged once its
 * event is stored. `scan()` is an async iterable a snap can read.
 */
export class Feed<T extends object = Record<string, unknown>> implements DeferredSink<T>, Flushing, AsyncDisposable {
  readonly options: ResolvedFeedOptions<T>;
  readonly store: FeedStore;
  readonly #log: Logger;
  #initialised: Promise<void> | undefined;
  #queue: Pending[] = [];
  #writing = false;
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #stats = { inserted: 0, batches: 0, swept: 0, failures: 0 };

  constructor(options: FeedOptions<T>) {
    this.options = resolveFeedOptions(options);
    this.store = this.options.store;
    this.#log = rootLogger().child({ component: 'feed', store: this.store.name });
    const { maxAgeMs, maxItems, sweepInterval } = this.options;
    if ((maxAgeMs !== undefined || maxItems !== undefined) && sweepInterval > 0) {
      this.#sweepTimer = setInterval(() => {
        this.sweep().catch((error: unknown) => {
          const code = error instanceof SnoopyError ? error.code : undefined;
          this.#log.warn({ code }, `retention sweep failed: ${error instanceof Error ? error.message : String(error)}`);
          this.#log.debug({ err: error }, 'retention sweep failure');
        });
      }, sweepInterval);
      this.#sweepTimer.unref();
    }
  }

  /** Creates the store's tables or sequence if needed; every other method waits for it. */
  init(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('Feed'));
    return this.#init();
  }

  #init(): Promise<void> {
    if (this.#initialised === undefined) {
      const started = this.store.init().catch((error: unknown) => {
        this.#initialised = undefined;
        throw wrapStoreError(this.store, 'init', error);
      });
      this.#initialised = started;
    }
    return this.#initialised;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('Feed');
  }

  #record(event: T, at: unknown): NewRecord {
    let when: unknown = at;
    if (when === undefined && this.options.at !== undefined) when = this.options.at(event);
    if (when instanceof Date) when = when.getTime();
    if (when === undefined) when = this.options.clock();
    if (typeof when !== 'number' || !Number.isInteger(when) || when < 0 || when > MAX_POSITION) {
      throw new FeedEventError(`Expected an event's \`at\` to be an integer number of ms since the epoch (0 to 2^53 - 1) or a Date, got ${describeValue(at ?? when)}`);
    }
    return { at: when, event, indexes: indexesOf(event, this.options.keys, this.options.maxFanOut) };
  }

  /** Stores `event`; resolves with its id once it is stored. */
  insert(event: T, options?: InsertOptions): Promise<string> {
    try {
      this.#assertOpen();
      const o = optionsObject('insert', options);
      checkSignal(o.signal as AbortSignal | undefined, 'Feed insert');
      const record = this.#record(event, o.at);
      const done = new Promise<string>((resolve, reject) => {
        this.#enqueue({ record, completion: undefined, resolve, reject });
      });
      return withSignal(done, o.signal as AbortSignal | undefined, 'Feed insert');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Core's deferred sink: stores the event and calls `completion.done()` once it is stored. */
  [deliver](value: T, completion: Completion): void | Promise<void> {
    this.#assertOpen();
    this.#enqueue({ record: this.#record(value, undefined), completion, resolve: undefined, reject: undefined });
    if (this.#queue.length + this.#inFlight >= this.options.highWaterMark) {
      return new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    }
  }

  [flush](): Promise<void> {
    return this.flush();
  }

  /** Resolves once every event queued before the call is written (or failed). */
  flush(options?: { readonly signal?: AbortSignal }): Promise<void> {
    try {
      const signal = optionsObject('flush', options).signal as AbortSignal | undefined;
      checkSignal(signal, 'Feed flush');
      if (!this.#writing && this.#queue.length === 0) return Promise.resolve();
      return withSignal(new Promise<void>((resolve) => this.#idleWaiters.push(resolve)), signal, 'Feed flush');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #enqueue(p: Pending): void {
    this.#queue.push(p);
    if (!this.#writing) {
      this.#writing = true;
      // setImmediate: a synchronous burst of inserts or deliveries goes out as one batch.
      setImmediate(() => void this.#writeLoop());
    }
  }

  async #writeLoop(): Promise<void> {
    try {
      await this.#init();
    } catch (error) {
      this.#failQueued(error);
    }
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.options.batchSize);
      this.#inFlight = batch.length;
      try {
        const seqs = await this.store.append(batch.map((p) => p.record));
        this.#stats.batches++;
        this.#stats.inserted += batch.length;
        for (let i = 0; i < batch.length; i++) {
          const p = batch[i]!;
          if (p.completion !== undefined) p.completion.done();
          else p.resolve!(String(seqs[i]));
        }
      } catch (error) {
        this.#stats.failures += batch.length;
        const wrapped = wrapStoreError(this.store, 'write', error);
        for (const p of batch) {
          if (p.completion !== undefined) p.completion.fail(wrapped);
          else p.reject!(wrapped);
        }
      }
      this.#inFlight = 0;
      if (this.#drainWaiters.length > 0 && this.#queue.length < this.options.highWaterMark) {
        for (const w of this.#drainWaiters.splice(0)) w();
      }
    }
    this.#writing = false;
    for (const w of this.#drainWaiters.splice(0)) w();
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  #failQueued(error: unknown): void {
    const batch = this.#queue.splice(0);
    this.#stats.failures += batch.length;
    for (const p of batch) {
      if (p.completion !== undefined) p.completion.fail(error);
      else p.reject!(error);
    }
  }

  async #positions(indexes: readonly string[], before: Cursor | undefined, limit: number): Promise<Cursor[]> {
    try {
      if (indexes.length === 1) return await this.store.page(indexes[0]!, before, limit);
      // Each index's newest `limit` positions hold the union's newest `limit`: one round trip.
      const lists =
        this.store.pageMany !== undefined
          ? await this.store.pageMany(indexes, before, limit)
          : await Promise.all(indexes.map((ix) => this.store.page(ix, before, limit)));
      return mergeNewest(lists, limit);
    } catch (error) {
      throw wrapStoreError(this.store, 'read', error);
    }
  }

  async #load(positions: readonly Cursor[]): Promise<FeedEntry<T>[]> {
    let records;
    try {
      records = await this.store.load(positions);
    } catch (error) {
      throw wrapStoreError(this.store, 'read', error);
    }
    const out: FeedEntry<T>[] = [];
    for (const r of records) if (r !== undefined) out.push({ id: String(r.seq), at: r.at, seq: r.seq, event: r.event as T });
    return out;
  }

  /**
   * The matching events `[start, end)`, newest first: exactly `end - start` of them when that
   * many match. Each index reads at most `end` positions; an OR merges them.
   */
  async items(filters?: Filters, options?: ItemsOptions): Promise<T[]> {
    this.#assertOpen();
    const o = optionsObject('items', options);
    const start = intOption('start', o.start, 0, 0, maxPageEnd);
    const end = intOption('end', o.end, 20, start, maxPageEnd);
    const signal = o.signal as AbortSignal | undefined;
    checkSignal(signal, 'Feed items');
    const indexes = indexesOfFilters(filters, this.options.keys, this.options.maxFanOut);
    if (indexes.length === 0 || end === start) return [];
    await withSignal(this.#init(), signal, 'Feed items');
    // A sweep or a cap may remove an event between reading its position and loading it: read
    // again (a few times) so that the page still has `end - start` events when that many match.
    for (let attempt = 1; ; attempt++) {
      const positions = (await withSignal(this.#positions(indexes, undefined, end), signal, 'Feed items')).slice(start);
      const entries = await withSignal(this.#load(positions), signal, 'Feed items');
      if (entries.length === positions.length || attempt === 3) return entries.map((e) => e.event);
    }
  }

  /**
   * The matching events newest first, with their positions, paged by position rather than by
   * offset: pass the last entry as `before` to go on later. An async iterable a snap can read.
   */
  scan(filters?: Filters, options?: ScanOptions): AsyncGenerator<FeedEntry<T>, void, undefined> {
    this.#assertOpen();
    const o = optionsObject('scan', options);
    const before = checkCursor(o.before);
    const limit = o.limit === undefined || o.limit === Infinity ? Infinity : intOption('limit', o.limit, 0, 0, Number.MAX_SAFE_INTEGER);
    const pageSize = intOption('pageSize', o.pageSize, 100, 1, maxPageEnd);
    const signal = o.signal as AbortSignal | undefined;
    checkSignal(signal, 'Feed scan');
    const indexes = indexesOfFilters(filters, this.options.keys, this.options.maxFanOut);
    return this.#scan(indexes, before, limit, pageSize, signal);
  }

  async *#scan(indexes: readonly string[], before: Cursor | undefined, limit: number, pageSize: number, signal: AbortSignal | undefined): AsyncGenerator<FeedEntry<T>, void, undefined> {
    if (indexes.length === 0) return;
    await this.#init();
    let cursor = before;
    let left = limit;
    while (left > 0) {
      checkSignal(signal, 'Feed scan');
      this.#assertOpen();
      const n = Math.min(pageSize, left);
      const positions = await withSignal(this.#positions(indexes, cursor, n), signal, 'Feed scan');
      if (positions.length === 0) return;
      const entries = await withSignal(this.#load(positions), signal, 'Feed scan');
      for (const entry of entries) {
        checkSignal(signal, 'Feed scan');
        yield entry;
        left--;
      }
      if (positions.length < n) return;
      cursor = positions[positions.length - 1];
    }
  }

  /** How many events match. One index: the store counts it; an OR merges positions to count each event once. */
  async count(filters?: Filters, options?: CountOptions): Promise<number> {
    this.#assertOpen();
    const o = optionsObject('count', options);
    const signal = o.signal as AbortSignal | undefined;
    checkSignal(signal, 'Feed count');
    const indexes = indexesOfFilters(filters, this.options.keys, this.options.maxFanOut);
    if (indexes.length === 0) return 0;
    await withSignal(this.#init(), signal, 'Feed count');
    if (indexes.length === 1) {
      try {
        return await withSignal(this.store.count(indexes[0]!), signal, 'Feed count');
      } catch (error) {
        throw wrapStoreError(this.store, 'count', error);
      }
    }
    let total = 0;
    let cursor: Cursor | undefined;
    for (;;) {
      checkSignal(signal, 'Feed count');
      const positions = await this.#positions(indexes, cursor, 1000);
      total += positions.length;
      if (positions.length < 1000) return total;
      cursor = positions[positions.length - 1];
    }
  }

  /**
   * Applies retention now: removes events older than `maxAgeMs` and all but the newest
   * `maxItems`. Resolves with how many it removed. Runs every `sweepInterval` ms by itself.
   * Concurrent calls share one sweep; `signal` stops waiting for it (the sweep goes on).
   */
  sweep(options?: { readonly signal?: AbortSignal }): Promise<number> {
    try {
      if (this.#closed) throw new ClosedError('Feed');
      const signal = optionsObject('sweep', options).signal as AbortSignal | undefined;
      checkSignal(signal, 'Feed sweep');
      const running = (this.#sweeping ??= this.#sweep().finally(() => {
        this.#sweeping = undefined;
      }));
      return withSignal(running, signal, 'Feed sweep');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #sweep(): Promise<number> {
    await this.#init();
    const { maxAgeMs, maxItems } = this.options;
    let removed = 0;
    const removeOlder = async (cutoff: Cursor): Promise<void> => {
      for (;;) {
        let n: number;
        try {
          n = await this.store.removeOlder(cutoff, 1000);
        } catch (error) {
          throw wrapStoreError(this.store, 'sweep', error);
        }
        removed += n;
        this.#stats.swept += n;
        if (n < 1000) return;
      }
    };
    if (maxAgeMs !== undefined) await removeOlder({ at: Math.max(0, this.options.clock() - maxAgeMs), seq: 0 });
    if (maxItems !== undefined) {
      let last: Cursor | undefined;
      try {
        last = await this.store.nth(ALL_INDEX, maxItems - 1);
      } catch (error) {
        throw wrapStoreError(this.store, 'sweep', error);
      }
      if (last !== undefined) await removeOlder(last);
    }
    return removed;
  }

  /** Counters a user would graph. */
  stats(): FeedStats {
    return { ...this.#stats, pending: this.#queue.length + this.#inFlight };
  }

  /**
   * Writes what is queued, stops the sweep timer and closes the store (never the client the store
   * was given). Idempotent; later calls fail with `SNOOPY_CLOSED`.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    await this.flush();
    await this.#sweeping?.catch(() => {});
    await this.store.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A feed of events with `keys` indexed, kept in `store`. */
export function feed<T extends object = Record<string, unknown>>(options: FeedOptions<T>): Feed<T> {
  return new Feed<T>(options);
}
