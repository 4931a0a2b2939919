import { ack, ClosedError, OptionsError, describeValue, rootLogger, type Acknowledging, type Logger } from '@snoopy/core';
import type { Pool, QueryResultRow } from 'pg';
import { PgPageError, PgQueryError } from './errors.js';
import { ident } from './internal/sql.js';
import { PrefixTracker } from './internal/tracker.js';
import { Waker } from './internal/wake.js';
import { resolvePullOptions, type PullOptions, type ResolvedPullOptions } from './options.js';
import type { Page, PageFunction, PgQuery } from './types.js';

/** Counters of a `pull()` source. */
export interface PullStats {
  readonly pages: number;
  readonly yielded: number;
  readonly acked: number;
  readonly checkpoints: number;
  /** Items yielded and not yet inside the acknowledged prefix. */
  readonly inFlight: number;
}

const tableName = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

function isPgQuery(source: unknown): source is PgQuery {
  return typeof source === 'object' && source !== null && typeof (source as PgQuery).query === 'string' && typeof (source as PgQuery).pool?.query === 'function';
}

/** A SQL source as a cursor function: `WHERE key > $n ORDER BY key LIMIT $m`, never OFFSET. */
function sqlPages(source: PgQuery, key: string): { fetch: PageFunction<QueryResultRow, unknown>; max: () => Promise<unknown> } {
  const base = tableName.test(source.query.trim()) ? `SELECT * FROM ${source.query.trim()}` : source.query;
  const params = [...(source.params ?? [])];
  const k = `q.${ident(key)}`;
  const run = async (text: string, values: unknown[]): Promise<QueryResultRow[]> => {
    try {
      return (await source.pool.query(text, values)).rows;
    } catch (error) {
      throw new PgQueryError('pull', { cause: error });
    }
  };
  return {
    fetch: async (cursor, { limit }) => {
      const n = params.length;
      const rows =
        cursor === undefined
          ? await run(`SELECT * FROM (${base}) AS q ORDER BY ${k} LIMIT $${n + 1}`, [...params, limit])
          : await run(`SELECT * FROM (${base}) AS q WHERE ${k} > $${n + 1} ORDER BY ${k} LIMIT $${n + 2}`, [...params, cursor, limit]);
      if (rows.length > 0 && !(key in rows[0]!)) {
        throw new OptionsError(`Expected \`key\` to be a column of the query, got ${describeValue(key)}; columns: ${Object.keys(rows[0]!).join(', ')}`);
      }
      return { items: rows, next: rows.length > 0 ? rows.at(-1)![key] : cursor };
    },
    max: async () => (await run(`SELECT max(${k}) AS m FROM (${base}) AS q`, params))[0]?.m ?? undefined,
  };
}

/**
 * Every row of a table or query, then the new ones (django-pubsubpull's all-then-new), or only
 * the new ones, or every current row once. The same for any API that lists by cursor: give a
 * function `(cursor, { limit, signal }) => { items, next }` instead of a query. A snap source:
 * core acknowledges each item, and the checkpoint (in a Cache) covers the contiguous prefix.
 */
export class Pull<T = QueryResultRow, C = unknown> implements AsyncIterable<T>, Acknowledging<T>, AsyncDisposable {
  private readonly options: ResolvedPullOptions;
  private readonly logger: Logger;
  private readonly fetchPage: PageFunction<T, C>;
  private readonly max: (() => Promise<unknown>) | undefined;
  private readonly waker = new Waker();
  private readonly abort = new AbortController();
  private readonly tracker = new PrefixTracker<{ at: C | undefined }>();
  private readonly counters = { pages: 0, yielded: 0, acked: 0, checkpoints: 0 };
  private readonly sql: boolean;
  private iterating = false;
  private saved: C | undefined;
  private savedOnce = false;
  private saving: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;

  constructor(source: PgQuery | PageFunction<T, C>, options: PullOptions = {}) {
    this.sql = isPgQuery(source);
    if (!this.sql && typeof source !== 'function') {
      throw new OptionsError(`Expected the pull source to be { pool, query } or a cursor function, got ${describeValue(source)}`);
    }
    this.options = resolvePullOptions(options, this.sql);
    if (this.sql) {
      const pages = sqlPages(source as PgQuery, this.options.key!);
      this.fetchPage = pages.fetch as unknown as PageFunction<T, C>;
      this.max = pages.max;
    } else {
      this.fetchPage = source as PageFunction<T, C>;
    }
    this.logger = (this.options.logger ?? rootLogger()).child({ component: 'pg-pull', name: this.options.name });
    if (this.options.signal?.aborted) this.abort.abort();
    else this.options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  stats(): PullStats {
    return { ...this.counters, inFlight: this.tracker.inFlight };
  }

  [ack](item: T): void {
    if (this.tracker.ack(item)) this.counters.acked++;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.closed) throw new ClosedError('pull()');
    if (this.iterating || this.stopping !== undefined) throw new OptionsError('pull() iterates once: make one pull() per consumer');
    this.iterating = true;
    let buffer: readonly T[] = [];
    let at = 0;
    let positions: (C | undefined)[] = [];
    let cursor: C | undefined;
    let started = false;
    let done = false;
    let caughtUp = false;
    const signal = this.abort.signal;
    const pull = async (): Promise<IteratorResult<T>> => {
      if (!started) {
        started = true;
        cursor = await this.startCursor();
        this.timer = setInterval(() => void this.save().catch((error: unknown) => this.warnFailure(error)), this.options.checkpointMs);
        this.timer.unref();
      }
      while (!done && !signal.aborted) {
        if (at < buffer.length) {
          const item = buffer[at]!;
          this.tracker.track(item, { at: positions[at] });
          at++;
          this.counters.yielded++;
          return { done: false, value: item };
        }
        if (caughtUp) {
          if (this.options.mode === 'backfillOnce') break;
          await this.waker.sleep(this.options.every, signal).catch(() => undefined);
          if (signal.aborted) break;
        }
        const page = await this.fetch(cursor, signal);
        buffer = page.items;
        at = 0;
        // Resuming at an item's position re-reads nothing before it: for a SQL source each row
        // resumes after its own key; a cursor function's page is re-read up to its last item.
        positions = this.sql ? page.items.map((_, i) => (page.keys as C[])[i]) : page.items.map((_, i) => (i === page.items.length - 1 ? page.next : cursor));
        if (page.items.length > 0) cursor = page.next;
        caughtUp = page.items.length < this.options.pageSize;
      }
      done = true;
      await this.stop();
      return { done: true, value: undefined };
    };
    let pending: Promise<IteratorResult<T>> = Promise.resolve({ done: true, value: undefined });
    return {
      next: () =>
        (pending = pull().catch(async (error: unknown) => {
          done = true;
          await this.stop();
          throw error;
        })),
      return: async () => {
        done = true;
        this.abort.abort();
        await pending.catch(() => undefined);
        await this.stop();
        return { done: true, value: undefined };
      },
    };
  }

  /** Writes the checkpoint now. */
  commit(): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('pull()'));
    return this.save();
  }

  /** Stops the iteration and writes the checkpoint. Idempotent; the pool and cache stay open. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.stop();
      this.closed = true;
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      this.waker.wake();
      clearInterval(this.timer);
      await this.save().catch((error: unknown) => this.warnFailure(error));
    })();
    return this.stopping;
  }

  private async startCursor(): Promise<C | undefined> {
    const store = this.options.checkpoint;
    if (store !== undefined) {
      await store.open();
      const stored = store.get(this.options.name) as { at: C | null } | undefined;
      if (stored !== undefined) {
        this.saved = stored.at ?? undefined;
        this.savedOnce = true;
        return this.saved;
      }
    }
    if (this.options.mode !== 'newOnly') return undefined;
    if (this.max !== undefined) return (await this.max()) as C | undefined;
    // A cursor function has no "maximum": walk to the end without yielding.
    let cursor: C | undefined;
    for (;;) {
      const page = await this.fetch(cursor, this.abort.signal);
      if (page.items.length > 0) cursor = page.next;
      if (page.items.length < this.options.pageSize || this.abort.signal.aborted) return cursor;
    }
  }

  private async fetch(cursor: C | undefined, signal: AbortSignal): Promise<{ items: readonly T[]; next: C | undefined; keys?: unknown[] }> {
    const page: Page<T, C> = await this.fetchPage(cursor, { limit: this.options.pageSize, signal });
    this.counters.pages++;
    if (typeof page !== 'object' || page === null || !Array.isArray(page.items)) {
      throw new PgPageError(`pull(): expected the cursor function to return { items: [...], next }, got ${describeValue(page)}`);
    }
    const next = page.next ?? undefined;
    if (page.items.length > 0 && next === undefined) {
      throw new PgPageError(`pull(): a page with ${page.items.length} items has no \`next\` cursor (the cursor after its last item)`);
    }
    if (page.items.length > this.options.pageSize) {
      throw new PgPageError(`pull(): asked for at most ${this.options.pageSize} items, got ${page.items.length}`);
    }
    const key = this.options.key;
    return { items: page.items, next, keys: this.sql ? page.items.map((row) => (row as Record<string, unknown>)[key!]) : undefined };
  }

  private save(): Promise<void> {
    const next = this.saving.then(async () => {
      const store = this.options.checkpoint;
      const committable = this.tracker.committable;
      if (store === undefined || committable === undefined) return;
      if (this.savedOnce && committable.at === this.saved) return;
      await store.set(this.options.name, { at: committable.at ?? null });
      this.saved = committable.at;
      this.savedOnce = true;
      this.counters.checkpoints++;
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  private warnFailure(error: unknown): void {
    this.logger.warn({ code: (error as { code?: string }).code }, `checkpoint write failed: ${(error as Error).message}`);
    this.logger.debug({ err: error }, 'checkpoint write failure');
  }
}

/** `new Pull(source, options)`: a table, a query or a cursor function as a snap source. */
export function pull<T = QueryResultRow, C = unknown>(source: PgQuery | PageFunction<T, C>, options: PullOptions = {}): Pull<T, C> {
  return new Pull<T, C>(source, options);
}


