import { ack, ClosedError, OptionsError, describe, rootLogger, type Acknowledging, type Describing, type Logger, type MessageMeta } from '@snoopy/core';
import type { Cache } from '@snoopy/cache';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { PgNotInstalledError, PgQueryError } from './errors.js';
import { channelName, ident } from './internal/sql.js';
import { PrefixTracker } from './internal/tracker.js';
import { Waker } from './internal/wake.js';
import { positionPattern, resolveChangesOptions, type ChangesOptions, type ResolvedChangesOptions } from './options.js';
import type { Change, ChangesStats } from './types.js';

type Position = readonly [txid: string, seq: string];

function parsePosition(id: string): Position {
  const m = positionPattern.exec(id)!;
  return [m[1]!, m[2]!];
}

function comparePositions(a: Position, b: Position): number {
  for (let i = 0; i < 2; i++) {
    const x = BigInt(a[i]!);
    const y = BigInt(b[i]!);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The changes recorded by `install()`'s triggers, as an async iterable (a snap source) in
 * `(txid, seq)` order. It reads only changes of transactions below the oldest one still running
 * (`pg_snapshot_xmin`), so a transaction that commits late is never skipped; a NOTIFY wakes it up
 * early, the poll every `pollMs` finds what a lost NOTIFY did not announce. Core acknowledges
 * each change (`[ack]`) once its handler and sinks are done; the checkpoint covers the contiguous
 * prefix of acknowledged changes.
 */
export class Changes<Row = Record<string, unknown>> implements AsyncIterable<Change<Row>>, Acknowledging<Change<Row>>, Describing<Change<Row>>, AsyncDisposable {
  private readonly options: ResolvedChangesOptions;
  private readonly logger: Logger;
  private readonly schema: string;
  private readonly waker = new Waker();
  private tracker = new PrefixTracker<string>();
  private readonly counters = { read: 0, yielded: 0, acked: 0, polls: 0, notifications: 0, listens: 0, listenerErrors: 0, checkpoints: 0, swept: 0 };
  private tables: Set<string> | undefined;
  private started: Promise<Position> | undefined;
  /** Position after the last change read (the next poll reads after it). */
  private readPosition: Position | undefined;
  /** Counts stopped iterations; a poll of an earlier one leaves the read position alone. */
  private epoch = 0;
  /** Where the first iteration started. */
  private origin: Position | undefined;
  /** Last position written to the checkpoint store. */
  private saved: string | undefined;
  private listener: { client: PoolClient; release(error?: Error): void } | undefined;
  private connecting: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private iterating = false;
  private stopping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private abort = new AbortController();
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    options: ChangesOptions = {},
  ) {
    this.options = resolveChangesOptions(options);
    this.schema = ident(this.options.schema);
    this.logger = (this.options.logger ?? rootLogger()).child({ component: 'pg-changes', schema: this.options.schema, name: this.options.name });
    if (this.options.signal?.aborted) this.abort.abort();
    else this.options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** Position of the contiguous prefix of acknowledged changes (what the next checkpoint writes). */
  get checkpoint(): string | undefined {
    return this.tracker.committable ?? this.saved;
  }

  stats(): ChangesStats {
    return { ...this.counters, inFlight: this.tracker.inFlight };
  }

  [describe](change: Change<Row>): MessageMeta {
    return { topic: change.table, offset: change.id, key: change.key, timestamp: change.at.getTime() };
  }

  [ack](change: Change<Row>): void {
    if (this.tracker.ack(change)) this.counters.acked++;
  }

  [Symbol.asyncIterator](): AsyncIterator<Change<Row>> {
    if (this.closed) throw new ClosedError('changes()');
    if (this.iterating) throw new OptionsError('changes() is already being iterated: make one changes() per consumer');
    this.iterating = true;
    this.stopping = undefined;
    this.abort = new AbortController();
    if (this.options.signal?.aborted) this.abort.abort();
    this.tracker = new PrefixTracker<string>();
    let buffer: Change<Row>[] = [];
    let at = 0;
    let done = false;
    let retryMs = 0;
    let prefetch: ReturnType<Changes<Row>['poll']> | undefined;
    const finish = async (): Promise<IteratorResult<Change<Row>>> => {
      done = true;
      await this.stop();
      return { done: true, value: undefined };
    };
    let pending: Promise<IteratorResult<Change<Row>>> = Promise.resolve({ done: true, value: undefined });
    const pull = async (): Promise<IteratorResult<Change<Row>>> => {
      if (this.started === undefined) {
        // A start that failed (not installed yet, say) is tried again by the next iteration.
        const started = this.start();
        this.started = started;
        started.catch(() => {
          if (this.started === started) this.started = undefined;
        });
      }
      this.origin ??= await this.started!;
      this.readPosition ??= this.origin;
      if (this.timers.length === 0 && !done) this.startTimers();
      while (!done) {
        if (this.abort.signal.aborted) return finish();
        const change = this.nextBuffered(buffer, at);
        at = this.skipped;
        if (change !== undefined) return { done: false, value: change };
        const polled = prefetch ?? this.poll();
        prefetch = undefined;
        const { rows, full, heldBack } = await polled;
        buffer = rows;
        at = 0;
        // More may be waiting: read the next batch while this one is handled.
        if (full && !this.abort.signal.aborted) {
          prefetch = this.poll();
          prefetch.catch(() => undefined);
        }
        if (!full && rows.length === 0) {
          await this.ensureListener();
          // Changes of committed transactions wait behind an older one still running: look again
          // soon (10 ms, doubling up to a second or pollMs) rather than after a whole pollMs.
          retryMs = heldBack ? Math.min(this.options.pollMs, 1000, retryMs === 0 ? 10 : retryMs * 2) : 0;
          await this.waker.sleep(retryMs || this.options.pollMs, this.abort.signal).catch(() => undefined);
        } else {
          retryMs = 0;
        }
      }
      return { done: true, value: undefined };
    };
    const failed = async (error: unknown): Promise<never> => {
      done = true;
      await this.stop();
      throw error;
    };
    return {
      next: () => {
        // Fast path: a change already read, handed out without entering the async loop.
        if (!done && !this.abort.signal.aborted) {
          const change = this.nextBuffered(buffer, at);
          at = this.skipped;
          if (change !== undefined) return (pending = Promise.resolve({ done: false, value: change }));
        }
        return (pending = pull().catch(failed));
      },
      return: async () => {
        done = true;
        this.abort.abort();
        this.waker.wake();
        await pending.catch(() => undefined);
        await this.stop();
        return { done: true, value: undefined };
      },
    };
  }

  /** Where `nextBuffered` stopped in the buffer. */
  private skipped = 0;

  /**
   * The next change of `buffer` from `at` that this consumer wants, tracked for the checkpoint;
   * changes of other tables are tracked and counted as done in their place in the order (so the
   * checkpoint can pass them, never a wanted change before them). Sets `skipped` to the new index.
   */
  private nextBuffered(buffer: readonly Change<Row>[], at: number): Change<Row> | undefined {
    const tables = this.tables;
    while (at < buffer.length) {
      const change = buffer[at++]!;
      this.tracker.track(change, change.id);
      if (tables === undefined || tables.has(change.table)) {
        this.skipped = at;
        this.counters.yielded++;
        return change;
      }
      this.tracker.ack(change);
    }
    this.skipped = at;
    return undefined;
  }

  /** Writes the checkpoint now (the contiguous prefix of acknowledged changes). */
  commit(): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('changes()'));
    return this.save();
  }

  /**
   * Deletes changes older than `retainMs` at or before every checkpoint (this consumer's and,
   * with the table store, every consumer's in `<schema>.checkpoints`); resolves with how many.
   */
  async sweep(): Promise<number> {
    if (this.closed) throw new ClosedError('changes()');
    return this.runSweep();
  }

  /** Stops the iteration, writes the checkpoint, releases the LISTEN connection. Idempotent. */
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
      for (const timer of this.timers) clearInterval(timer);
      this.timers = [];
      await this.connecting;
      this.dropListener();
      if (this.started !== undefined) {
        await this.started.catch(() => undefined);
        await this.save().catch((error: unknown) => this.warnFailure('final checkpoint write', error));
      }
      // The next iteration starts after what was acknowledged, not after what was read ahead.
      this.epoch++;
      const resume = this.tracker.committable ?? this.saved;
      this.readPosition = resume !== undefined ? parsePosition(resume) : this.origin;
      this.iterating = false;
    })();
    return this.stopping;
  }

  private async query<R extends QueryResultRow>(what: string, text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '3F000') {
        throw new PgNotInstalledError(this.options.schema, { cause: error });
      }
      throw new PgQueryError(what, { cause: error });
    }
  }

  private async start(): Promise<Position> {
    const o = this.options;
    const [installed] = await this.query<{ ok: boolean }>('changes: start', `SELECT to_regclass($1) IS NOT NULL AS ok`, [`${this.schema}.changes`]);
    if (!installed?.ok) throw new PgNotInstalledError(o.schema);
    if (o.tables !== undefined) {
      const rows = await this.query<{ table: string | null }>(
        'changes: tables',
        `SELECT (SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(t)) AS table
           FROM unnest($1::text[]) AS t`,
        [o.tables],
      );
      this.tables = new Set(rows.map((r, i) => r.table ?? o.tables![i]!));
    }
    let position: Position = ['0', '0'];
    if (o.from === 'now') {
      const [row] = await this.query<{ xmin: string }>('changes: start', 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
      position = [row!.xmin, '0'];
    } else if (o.from !== 'start' && o.from !== 'checkpoint') {
      position = parsePosition(o.from);
    } else if (o.from === 'checkpoint') {
      const stored = await this.load();
      if (stored !== undefined) position = parsePosition(stored);
    }
    this.logger.debug({ from: position.join('/') }, 'changes started');
    return position;
  }

  private startTimers(): void {
    const o = this.options;
    {
      const timer = setInterval(() => {
        this.save().catch((error: unknown) => this.warnFailure('checkpoint write', error));
      }, o.checkpointMs);
      timer.unref();
      this.timers.push(timer);
    }
    if (o.retainMs > 0) {
      const timer = setInterval(() => {
        this.runSweep().catch((error: unknown) => this.warnFailure('retention sweep', error));
      }, o.sweepMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  private async load(): Promise<string | undefined> {
    const store = this.options.checkpoint;
    if (store === false) return undefined;
    if (store === 'table') {
      const [row] = await this.query<{ id: string }>('changes: read checkpoint', `SELECT txid::text || '/' || seq::text AS id FROM ${this.schema}.checkpoints WHERE name = $1`, [this.options.name]);
      this.saved = row?.id;
    } else {
      await (store as Cache<string>).open();
      const value = store.get(this.options.name);
      this.saved = typeof value === 'string' && positionPattern.test(value) ? value : undefined;
    }
    return this.saved;
  }

  private save(): Promise<void> {
    const next = this.saving.then(async () => {
      const position = this.tracker.committable;
      if (position === undefined || position === this.saved) return;
      const store = this.options.checkpoint;
      if (store === 'table') {
        const [txid, seq] = parsePosition(position);
        await this.query(
          'changes: write checkpoint',
          `INSERT INTO ${this.schema}.checkpoints (name, txid, seq) VALUES ($1, $2::xid8, $3::bigint)
           ON CONFLICT (name) DO UPDATE SET txid = excluded.txid, seq = excluded.seq, updated_at = now()`,
          [this.options.name, txid, seq],
        );
      } else if (store !== false) {
        await store.set(this.options.name, position);
      }
      this.saved = position;
      this.counters.checkpoints++;
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async runSweep(): Promise<number> {
    const o = this.options;
    const own = this.options.checkpoint === false ? this.tracker.committable : this.saved;
    if (own === undefined || o.retainMs === 0) return 0;
    let bound = parsePosition(own);
    const [other] = await this.query<{ txid: string; seq: string }>(
      'sweep',
      `SELECT k.txid::text AS txid, k.seq::text AS seq FROM ${this.schema}.checkpoints AS k ORDER BY k.txid, k.seq LIMIT 1`,
    );
    if (other !== undefined && comparePositions([other.txid, other.seq], bound) < 0) bound = [other.txid, other.seq];
    let total = 0;
    for (;;) {
      const rows = await this.query<{ n: number }>(
        'sweep',
        `WITH gone AS (
           DELETE FROM ${this.schema}.changes WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM ${this.schema}.changes
              WHERE (txid, seq) <= ($1::xid8, $2::bigint) AND at < now() - make_interval(secs => $3::double precision / 1000)
              LIMIT 10000))
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [bound[0], bound[1], o.retainMs],
      );
      const n = rows[0]?.n ?? 0;
      total += n;
      if (n < 10000) break;
    }
    this.counters.swept += total;
    if (total > 0) this.logger.debug({ swept: total }, 'retention sweep');
    return total;
  }

  /** One read of up to `batch` changes after the read position; `full` when there may be more. */
  private async poll(): Promise<{ rows: Change<Row>[]; full: boolean; heldBack: boolean }> {
    const [txid, seq] = this.readPosition!;
    const epoch = this.epoch;
    this.counters.polls++;
    let rows: Change<Row>[];
    try {
      // Each row comes back in the shape of a Change: no second object per change.
      rows = await this.query<Change<Row> & QueryResultRow>(
        'changes: poll',
        `SELECT c.txid::text || '/' || c.seq::text AS id, c.table_name AS "table", c.op, c.key,
                c.old_row AS old, c.new_row AS new, c.changed, c.txid::text AS txid, c.seq::text AS seq,
                c.request_id AS "requestId", c.at
           FROM ${this.schema}.changes AS c
          WHERE (c.txid, c.seq) > ($1::xid8, $2::bigint) AND c.txid < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY c.txid, c.seq LIMIT $3`,
        [txid, seq, this.options.batch],
      );
    } catch (error) {
      if (!(error instanceof PgQueryError) || !error.retriable) throw error;
      this.logger.warn({ code: error.code, pgCode: error.pgCode }, 'poll failed, retrying after pollMs');
      this.logger.debug({ err: error }, 'poll failure');
      return { rows: [], full: false, heldBack: false };
    }
    let heldBack = false;
    if (rows.length === 0) {
      const [waiting] = await this.query<{ held: boolean }>(
        'changes: poll',
        `SELECT EXISTS (SELECT 1 FROM ${this.schema}.changes AS c
                         WHERE (c.txid, c.seq) > ($1::xid8, $2::bigint) AND c.txid >= pg_snapshot_xmin(pg_current_snapshot())) AS held`,
        [txid, seq],
      ).catch(() => [{ held: false }]);
      heldBack = waiting?.held ?? false;
    }
    this.counters.read += rows.length;
    const full = rows.length === this.options.batch;
    // A read ahead that lands after the iteration stopped must not move the next one's start.
    if (rows.length > 0 && epoch === this.epoch) this.readPosition = [rows.at(-1)!.txid, rows.at(-1)!.seq];
    return { rows, full, heldBack };
  }

  /** Opens the LISTEN connection when there is none (first wait, or after it was lost). */
  private ensureListener(): Promise<void> {
    if (!this.options.listen || this.listener !== undefined || this.abort.signal.aborted) return Promise.resolve();
    this.connecting ??= (async () => {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        this.listenFailed(error);
        return;
      }
      let released = false;
      const onNotification = (): void => {
        this.counters.notifications++;
        this.waker.wake();
      };
      const onError = (error: Error): void => {
        if (released) return;
        this.counters.listenerErrors++;
        this.logger.warn({ code: 'SNOOPY_PG_QUERY', pgCode: (error as { code?: string }).code }, 'LISTEN connection lost, polling until it is back');
        if (this.listener?.client === client) this.listener = undefined;
        release(error);
      };
      // The pool's client goes back to the pool (or is destroyed after an error) without our listeners.
      const release = (error?: Error): void => {
        if (released) return;
        released = true;
        client.removeListener('notification', onNotification);
        // A broken connection is destroyed, not pooled, and may still emit (57P01, then
        // "terminated unexpectedly"): keep a listener on it so that is no uncaught error.
        if (error === undefined) client.removeListener('error', onError);
        client.release(error);
      };
      client.on('notification', onNotification);
      client.on('error', onError);
      try {
        await client.query(`LISTEN ${ident(channelName(this.options.schema))}`);
      } catch (error) {
        release(error as Error);
        this.listenFailed(error);
        return;
      }
      if (released) return;
      this.counters.listens++;
      this.listener = { client, release };
      if (this.abort.signal.aborted) this.dropListener();
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** One warn line with the code; the stack at debug. */
  private warnFailure(what: string, error: unknown): void {
    this.logger.warn({ code: (error as { code?: string }).code, pgCode: (error as PgQueryError).pgCode }, `${what} failed: ${(error as Error).message}`);
    this.logger.debug({ err: error }, `${what} failure`);
  }

  private listenFailed(error: unknown): void {
    this.logger.warn({ code: 'SNOOPY_PG_QUERY', pgCode: (error as { code?: string }).code }, 'LISTEN failed, polling without it');
    this.logger.debug({ err: error }, 'LISTEN failure');
  }

  private dropListener(): void {
    const listener = this.listener;
    this.listener = undefined;
    if (listener === undefined) return;
    // UNLISTEN and hand the connection back; an error on the way destroys it instead.
    listener.client.query('UNLISTEN *').then(
      () => listener.release(),
      (error: Error) => listener.release(error),
    );
  }
}

/** `new Changes(pool, options)`: the recorded changes as a snap source. */
export function changes<Row = Record<string, unknown>>(pool: Pool, options: ChangesOptions = {}): Changes<Row> {
  return new Changes<Row>(pool, options);
}
