/**
 * One LevelDB directory, shared by every Cache (and namespace) opened on it in this process.
 * Owns the write pipeline: writes are coalesced into batches that are written one at a time in
 * order. Each batch keeps the latest write of each of its keys, so that synchronous reads see a
 * write from the moment it is queued until its batch is in LevelDB (`read()`).
 */
import { ClassicLevel } from 'classic-level';
import type { Completion, Logger } from '@snoopy/core';
import { CacheIoError, CacheLockedError } from '../errors.js';
import type { CacheStats } from '../types.js';
import type { ResolvedCacheOptions } from '../options.js';
import { expiryOf } from './values.js';

export type StoreOptions = Pick<ResolvedCacheOptions<unknown>, 'sync' | 'batchSize' | 'highWaterMark' | 'sweepInterval' | 'clock'>;

export interface PutOp {
  readonly type: 'put';
  readonly key: string;
  readonly value: string;
}
export interface DelOp {
  readonly type: 'del';
  readonly key: string;
}
export type WriteOp = PutOp | DelOp;

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class BatchJob {
  readonly kind = 'batch';
  readonly ops: WriteOp[] = [];
  /**
   * The latest write of each user key in this batch, built on the first read that needs it (so
   * that writes nobody reads while they are pending cost no index), then kept up to date.
   */
  latest: Map<string, WriteOp> | undefined;

  index(): Map<string, WriteOp> {
    if (this.latest === undefined) {
      const latest = new Map<string, WriteOp>();
      for (const op of this.ops) if (op.key.charCodeAt(0) === 0) latest.set(op.key, op);
      this.latest = latest;
    }
    return this.latest;
  }
  readonly completions: Completion[] = [];
  done: Deferred | undefined;
}

interface ClearJob {
  readonly kind: 'clear';
  readonly range: Readonly<Record<string, Buffer>>;
  done: Deferred | undefined;
  readonly count: number;
}

type Job = BatchJob | ClearJob;


export interface Waiter {
  readonly key: string;
  readonly owner: object;
  onValue(stored: string): void;
  onClose(error: unknown): void;
}

export const TTL_INDEX = '\x01t';
const TTL_INDEX_END = '\x01u';

function ttlIndexKey(expiresAt: number, key: string): string {
  const s = String(expiresAt);
  return TTL_INDEX + '000000000000000'.slice(s.length) + s + key;
}

/** classic-level reports a held LOCK file as `LEVEL_DATABASE_NOT_OPEN` caused by `LEVEL_LOCKED`. */
function isLockError(error: unknown): boolean {
  let e = error as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e.code === 'LEVEL_LOCKED') return true;
    e = e.cause as typeof e;
  }
  return false;
}

export class Store {
  readonly db: ClassicLevel<string, string>;
  /** Jobs queued or in flight; while 0, reads go straight to LevelDB. */
  pendingJobs = 0;
  readonly waiters = new Map<string, Set<Waiter>>();
  /** `'opening' | 'open' | 'failed' | 'closed'` */
  status: 'opening' | 'open' | 'failed' | 'closed' = 'opening';
  openError: unknown;
  readonly opened: Promise<void>;
  refs = 0;
  closing: Promise<void> | undefined;

  private current: BatchJob | undefined;
  private readonly queue: Job[] = [];
  private inFlight: Job | undefined;
  private writing = false;
  private scheduled = false;
  private pendingOps = 0;
  private drain: Deferred | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private readonly writeOptions: { sync: true } | undefined;
  private readonly counters = { writes: 0, batches: 0, expired: 0, failures: 0 };
  private readonly runNow = (): void => {
    this.scheduled = false;
    void this.run();
  };

  constructor(
    readonly path: string,
    readonly options: StoreOptions,
    readonly logger: Logger,
    previous: Promise<void> | undefined,
  ) {
    this.db = new ClassicLevel<string, string>(path, { keyEncoding: 'utf8', valueEncoding: 'utf8', createIfMissing: true });
    // No per-batch options unless needed: abstract-level copies them into every operation.
    this.writeOptions = options.sync ? { sync: true } : undefined;
    this.opened = this.open(previous);
    // Failures surface through every operation that needs the store; never unhandled.
    this.opened.catch(() => {});
  }

  private async open(previous: Promise<void> | undefined): Promise<void> {
    if (previous) await previous.catch(() => {});
    try {
      await this.db.open();
    } catch (cause) {
      this.status = 'failed';
      this.openError = isLockError(cause)
        ? new CacheLockedError(this.path, { cause })
        : new CacheIoError(this.path, 'open', { cause });
      // Thrown to every caller that needs the store (open(), reads, writes): not logged here too.
      this.logger.debug({ err: this.openError }, 'cache open failed');
      this.failAll(this.openError);
      throw this.openError;
    }
    this.status = 'open';
    this.logger.debug('cache open');
    if (this.options.sweepInterval > 0) {
      this.sweepTimer = setInterval(() => {
        this.sweep().catch((err: unknown) => this.logger.warn({ err }, 'cache sweep failed'));
      }, this.options.sweepInterval);
      this.sweepTimer.unref();
    }
    if (this.current !== undefined || this.queue.length !== 0) this.schedule();
  }

  stats(): CacheStats {
    return { ...this.counters, pending: this.pendingOps };
  }

  /** Queues a put of `key`, visible to reads at once. Returns the batch it went into. */
  put(key: string, stored: string, expiresAt: number | undefined): BatchJob {
    const job = this.current ?? this.startBatch();
    const op: PutOp = { type: 'put', key, value: stored };
    job.ops.push(op);
    if (job.latest !== undefined) job.latest.set(key, op);
    this.pendingOps++;
    if (expiresAt !== undefined) {
      job.ops.push({ type: 'put', key: ttlIndexKey(expiresAt, key), value: '' });
      this.pendingOps++;
    }
    if (this.waiters.size !== 0) this.notify(key, stored);
    return job;
  }

  /** Queues a delete of `key`, visible to reads at once. */
  del(key: string): BatchJob {
    const job = this.current ?? this.startBatch();
    const op: DelOp = { type: 'del', key };
    job.ops.push(op);
    if (job.latest !== undefined) job.latest.set(key, op);
    this.pendingOps++;
    return job;
  }

  private startBatch(): BatchJob {
    this.pendingJobs++;
    return (this.current = new BatchJob());
  }

  /** Call after queuing one logical write (or one whole `batch()`): seals full batches, schedules. */
  commit(): void {
    const job = this.current;
    if (job !== undefined && job.ops.length >= this.options.batchSize) {
      this.current = undefined;
      this.queue.push(job);
      // A full batch has nothing to wait for: start writing it now rather than next turn.
      if (!this.writing && this.status === 'open') {
        void this.run();
        return;
      }
    }
    this.schedule();
  }

  /** True when the sink should ask core to wait (too much outstanding work). */
  get congested(): boolean {
    return this.pendingOps >= this.options.highWaterMark;
  }

  /** Resolves after the next batch completes (to be awaited while `congested`). */
  drained(): Promise<void> {
    return (this.drain ??= deferred()).promise;
  }

  promiseOf(job: Job): Promise<void> {
    return (job.done ??= deferred()).promise;
  }

  /** Queues a range delete after every write queued so far. */
  clear(range: Readonly<Record<string, Buffer>>): Promise<void> {
    this.seal();
    const job: ClearJob = { kind: 'clear', range, done: undefined, count: 1 };
    this.pendingJobs++;
    this.queue.push(job);
    this.pendingOps++;
    this.schedule();
    return this.promiseOf(job);
  }

  /** Resolves once every write queued so far is in LevelDB (rejects if the last one failed). */
  flush(): Promise<void> {
    this.seal();
    const last = this.queue.length !== 0 ? this.queue[this.queue.length - 1]! : this.inFlight;
    if (last === undefined) return Promise.resolve();
    if (!this.writing && this.status === 'open') void this.run();
    return this.promiseOf(last);
  }

  private seal(): void {
    if (this.current !== undefined) {
      this.queue.push(this.current);
      this.current = undefined;
    }
  }

  private schedule(): void {
    if (this.writing || this.scheduled || this.status !== 'open') return;
    this.scheduled = true;
    setImmediate(this.runNow);
  }

  private async run(): Promise<void> {
    if (this.writing || this.status !== 'open') return;
    this.writing = true;
    try {
      for (;;) {
        if (this.queue.length === 0) {
          if (this.current === undefined) break;
          this.seal();
        }
        const job = this.queue.shift()!;
        this.inFlight = job;
        if (job.kind === 'batch') await this.writeBatch(job);
        else await this.writeClear(job);
        this.inFlight = undefined;
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeBatch(job: BatchJob): Promise<void> {
    let error: CacheIoError | undefined;
    try {
      if (this.writeOptions === undefined) await this.db.batch(job.ops);
      else await this.db.batch(job.ops, this.writeOptions);
    } catch (cause) {
      error = new CacheIoError(this.path, 'batch write', { cause });
    }
    this.finishBatch(job, error);
  }

  private finishBatch(job: BatchJob, error: unknown): void {
    const ops = job.ops;
    this.pendingOps -= ops.length;
    this.pendingJobs--;
    const completions = job.completions;
    if (error === undefined) {
      this.counters.writes += ops.length;
      this.counters.batches++;
      for (let i = 0; i < completions.length; i++) completions[i]!.done();
      job.done?.resolve();
    } else {
      this.counters.failures++;
      // The writes' callers and completions get the error; logging it too would report it twice.
      this.logger.debug({ err: error, ops: ops.length }, 'cache batch failed');
      for (let i = 0; i < completions.length; i++) completions[i]!.fail(error);
      job.done?.reject(error);
    }
    this.releaseDrain();
  }

  private async writeClear(job: ClearJob): Promise<void> {
    let error: CacheIoError | undefined;
    try {
      await this.db.clear({ ...job.range, keyEncoding: 'buffer' } as never);
    } catch (cause) {
      error = new CacheIoError(this.path, 'range delete', { cause });
    }
    this.pendingOps -= job.count;
    this.pendingJobs--;
    if (error === undefined) job.done?.resolve();
    else {
      this.counters.failures++;
      job.done?.reject(error);
    }
    this.releaseDrain();
  }

  private releaseDrain(): void {
    const drain = this.drain;
    if (drain !== undefined) {
      this.drain = undefined;
      drain.resolve();
    }
  }

  /** Fails every queued job (the store could not open). */
  private failAll(error: unknown): void {
    this.seal();
    for (const job of this.queue.splice(0)) {
      if (job.kind === 'batch') this.finishBatch(job, error);
      else {
        this.pendingOps -= job.count;
        this.pendingJobs--;
        job.done?.reject(error);
      }
    }
  }

  private notify(key: string, stored: string): void {
    const set = this.waiters.get(key);
    if (set === undefined) return;
    this.waiters.delete(key);
    for (const waiter of set) waiter.onValue(stored);
  }

  addWaiter(waiter: Waiter): void {
    let set = this.waiters.get(waiter.key);
    if (set === undefined) this.waiters.set(waiter.key, (set = new Set()));
    set.add(waiter);
  }

  removeWaiter(waiter: Waiter): void {
    const set = this.waiters.get(waiter.key);
    if (set === undefined) return;
    set.delete(waiter);
    if (set.size === 0) this.waiters.delete(waiter.key);
  }

  /** Fails the waits whose owner `matches` (the caches that are closing). */
  closeWaiters(error: unknown, matches: (owner: object) => boolean): void {
    for (const set of [...this.waiters.values()]) {
      for (const waiter of [...set]) {
        if (matches(waiter.owner)) {
          this.removeWaiter(waiter);
          waiter.onClose(error);
        }
      }
    }
  }

  /** The latest queued write of `key` that is not yet in LevelDB, newest batch first. */
  private pending(key: string): WriteOp | undefined {
    let op = this.current?.index().get(key);
    if (op !== undefined) return op;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const job = this.queue[i]!;
      if (job.kind === 'batch' && (op = job.index().get(key)) !== undefined) return op;
    }
    const inFlight = this.inFlight;
    return inFlight?.kind === 'batch' ? inFlight.index().get(key) : undefined;
  }

  /** The stored value of `key` as reads see it now (pending writes first). */
  read(key: string): string | undefined {
    if (this.pendingJobs !== 0) {
      const op = this.pending(key);
      if (op !== undefined) return op.type === 'put' ? op.value : undefined;
    }
    try {
      return this.db.getSync(key);
    } catch (cause) {
      throw new CacheIoError(this.path, 'read', { cause });
    }
  }

  /**
   * Removes every entry that has expired, with its TTL index record; also drops index records of
   * entries that were overwritten or deleted since. Resolves with the number of entries removed,
   * once the deletes are in LevelDB. Concurrent calls share one sweep.
   */
  sweep(): Promise<number> {
    return (this.sweeping ??= this.runSweep().finally(() => {
      this.sweeping = undefined;
    }));
  }

  private async runSweep(): Promise<number> {
    await this.opened;
    const now = this.options.clock();
    const upper = ttlIndexKey(Math.floor(now) + 1, '');
    const iterator = this.db.keys({ gte: TTL_INDEX, lt: upper < TTL_INDEX_END ? upper : TTL_INDEX_END });
    let removed = 0;
    let touched = false;
    try {
      for (;;) {
        const keys = await iterator.nextv(1000);
        if (keys.length === 0) break;
        if (this.status !== 'open') break;
        for (const indexKey of keys) {
          const indexed = Number(indexKey.slice(2, 17));
          const key = indexKey.slice(17);
          const stored = this.read(key);
          const exists = stored !== undefined;
          const expiresAt = stored === undefined ? undefined : expiryOf(stored);
          const job = this.current ?? this.startBatch();
          if (exists && expiresAt !== undefined && expiresAt <= now) {
            this.del(key);
            removed++;
          }
          if (!exists || expiresAt !== indexed || expiresAt <= now) {
            job.ops.push({ type: 'del', key: indexKey });
            this.pendingOps++;
            touched = true;
          }
          this.commit();
        }
      }
    } finally {
      await iterator.close();
    }
    if (touched || removed !== 0) await this.flush();
    this.counters.expired += removed;
    if (removed !== 0) this.logger.debug({ removed }, 'cache sweep');
    return removed;
  }

  /** Writes what is queued, stops the sweep and closes LevelDB. */
  async close(): Promise<void> {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    if (this.status === 'failed') return;
    try {
      await this.opened;
    } catch {
      return;
    }
    let flushError: unknown;
    await this.sweeping?.catch(() => {});
    await this.flush().catch((err: unknown) => {
      flushError = err;
    });
    this.status = 'closed';
    await this.db.close();
    this.logger.debug('cache closed');
    if (flushError !== undefined) throw flushError;
  }
}
