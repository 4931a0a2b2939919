import { ack, ClosedError, describeValue, progress as progressKey, rootLogger, type Logger, type ProgressReport, type Reporting } from '@snoopy/core';
import { resolveDataSourceOptions, type DataSourceOptions, type ResolvedDataSourceOptions } from './options.js';
import { checkParamSpecs, secretValues, validateParams, type ParamSpec } from './params.js';
import { ReadError } from './errors.js';
import { backoffDelay, brief, isRetriable, sleep } from './internal/backoff.js';
import { Scrubber } from './internal/scrub.js';
import { Listeners, type Unsubscribe } from './internal/listeners.js';

/** The last `progress(loaded, total, message)` a source reported. */
export interface SourceProgress {
  readonly loaded: number;
  readonly total: number | undefined;
  readonly message: string | undefined;
}

export interface DataSourceEvents<S = unknown> {
  progress: SourceProgress;
  /** A checkpoint holds: every item read before it was acknowledged (with a store: it was stored). */
  state: { readonly checkpoint: S };
}

type LogFn = (message: string, fields?: Record<string, unknown>) => void;

/** `this.log(message, fields?)` logs at info; `.debug/.info/.warn/.error` pick the level. Secrets are scrubbed. */
export interface SourceLog extends LogFn {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
}

/** The static side of a DataSource class: what `snoopy run` needs to build one. */
export interface DataSourceClass<T = unknown> {
  new (params?: Record<string, unknown>, options?: DataSourceOptions): DataSource<T>;
  readonly params: readonly ParamSpec[];
  readonly name: string;
}

/**
 * A pull-based source to extend: implement `read(n)` (up to `n` items, or `null` at the end) and,
 * when it holds resources, `close()`. An instance is a snap source as it is.
 *
 * - `close()` is called exactly once: at the end, when `read` fails for good, or when the stream
 *   stops early.
 * - `read` errors with `retriable: false` fail at once; others are tried `attempts` times.
 * - `this.state(checkpoint)` inside `read` records a resumable position for the items that call
 *   returns; with a `stateStore` it is stored once all of them were acknowledged, and
 *   `this.checkpoint` holds it on the next run.
 */
export abstract class DataSource<T = unknown, P extends Record<string, unknown> = Record<string, any>, S = unknown>
  implements AsyncIterable<T>, AsyncDisposable, Reporting
{
  /** Declared parameters, validated at construction. */
  static params: readonly ParamSpec[] = [];

  /** The validated parameters. */
  readonly params: Readonly<P>;
  readonly options: ResolvedDataSourceOptions;
  /** Logs through a child logger `{ component: 'source', source }`, with secrets scrubbed. */
  protected readonly log: SourceLog;
  private readonly logger: Logger;
  private readonly scrubber: Scrubber;
  private readonly listeners = new Listeners<DataSourceEvents<S>>();
  private readonly specs: readonly ParamSpec[];
  private lastProgress: SourceProgress = { loaded: 0, total: undefined, message: undefined };
  private current: S | undefined;
  private pendingState: { value: S } | undefined;
  private started = false;
  private closing: Promise<void> | undefined;
  private stateWrites: Promise<void> = Promise.resolve();

  constructor(params: Record<string, unknown> = {}, options?: DataSourceOptions) {
    const name = new.target.name || 'DataSource';
    this.specs = checkParamSpecs(name, (new.target as unknown as DataSourceClass).params ?? []);
    this.options = resolveDataSourceOptions(options, name);
    this.params = validateParams(name, this.specs, params) as Readonly<P>;
    this.scrubber = new Scrubber(secretValues(this.specs, this.params));
    this.logger = (this.options.logger ?? rootLogger()).child({ component: 'source', source: name });
    this.log = this.makeLog();
  }

  /** Returns up to `n` items, or `null` when there are no more. An empty array means "none yet". */
  protected abstract read(n: number): Promise<readonly T[] | null> | readonly T[] | null;

  /** Releases what the source holds. Called exactly once by the framework; override it. */
  protected close(): Promise<void> | void {}

  /** Reports progress: `loaded` of `total` (when known), with a short message. */
  protected progress(loaded: number, total?: number, message?: string): void {
    this.lastProgress = Object.freeze({ loaded, total, message: message === undefined ? undefined : this.scrubber.text(message) });
    if (this.listeners.has('progress')) this.listeners.emit('progress', this.lastProgress, this.logger);
  }

  /** Records a resumable position covering the items the current `read` returns. */
  protected state(checkpoint: S): void {
    this.pendingState = { value: checkpoint };
  }

  /**
   * Where reading continues: the stored checkpoint before the first read (from the
   * `stateStore`), then the last one `read` recorded. Storing waits for acknowledgements.
   */
  get checkpoint(): S | undefined {
    return this.current;
  }

  get lastReportedProgress(): SourceProgress {
    return this.lastProgress;
  }

  /**
   * Core's `[progress]` protocol: the last `progress(loaded, total, message)` report, read at each
   * redraw of core's progress bar (which counts messages against `total`) and for the summary.
   */
  [progressKey](): ProgressReport {
    const { loaded, total, message } = this.lastProgress;
    return { loaded, ...(total === undefined ? {} : { total }), ...(message === undefined ? {} : { message }) };
  }

  on<E extends keyof DataSourceEvents<S>>(event: E, listener: (payload: DataSourceEvents<S>[E]) => void): Unsubscribe {
    return this.listeners.on(event, listener);
  }

  /** Parameters (secrets replaced by `[secret]`), progress and checkpoint. */
  toJSON(): Record<string, unknown> {
    const params: Record<string, unknown> = {};
    for (const spec of this.specs) {
      if (this.params[spec.name] !== undefined) params[spec.name] = spec.type === 'secret' ? '[secret]' : this.params[spec.name];
    }
    return { source: this.constructor.name, params, progress: this.lastProgress, checkpoint: this.current };
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.iterate(false);
  }

  /**
   * The same items, one array per `read` (empty reads skipped): one await per page instead of
   * one per item, for handlers that take arrays. Read once, like the source itself; the
   * acknowledgement of a page covers its items.
   */
  pages(): AsyncIterableIterator<readonly T[]> {
    return this.iterate(true) as unknown as AsyncIterableIterator<readonly T[]>;
  }

  private iterate(pages: boolean): SourceIterator<T, S> {
    if (this.closing !== undefined || this.started) throw new ClosedError(`${this.constructor.name} (a data source is read once)`);
    this.started = true;
    const access = this.access();
    return this.options.stateStore === undefined ? new SourceIterator<T, S>(access, pages) : new AckingIterator<T, S>(access, pages);
  }

  /** Closes the source (calls `close()` once) unless it already was, and waits for checkpoint writes. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.finish();
    await this.stateWrites;
  }

  private access(): SourceAccess<T, S> {
    return {
      start: () => this.load(),
      read: (n) => this.readOnce(n),
      retry: (error, n) => this.retry(error, n, 1),
      check: (items) => this.checked(items, 1),
      takeState: () => {
        const s = this.pendingState;
        this.pendingState = undefined;
        // The next read continues from here; storing it waits for the acknowledgements.
        if (s !== undefined) this.current = s.value;
        return s;
      },
      commit: (checkpoint, persist) => this.commit(checkpoint, persist),
      finish: () => this.finish(),
      batchSize: this.options.batchSize,
    };
  }

  private async load(): Promise<void> {
    const store = this.options.stateStore;
    if (store === undefined) return;
    await (store as { open?: () => Promise<unknown> }).open?.();
    const value = store.get(this.stateKey()) as S | undefined;
    if (value !== undefined) this.current = value;
  }

  private stateKey(): string {
    return this.options.stateKey ?? this.constructor.name;
  }

  private commit(checkpoint: S, persist: boolean): void {
    if (this.listeners.has('state')) this.listeners.emit('state', { checkpoint }, this.logger);
    const store = this.options.stateStore;
    if (!persist || store === undefined) return;
    const key = this.stateKey();
    // The cache applies writes in order and its reads see queued writes at once.
    const write = store.set(key, checkpoint).then(
      () => undefined,
      (error: unknown) => this.logger.warn({ err: error, code: (error as { code?: string }).code }, 'storing the checkpoint failed'),
    );
    this.stateWrites = Promise.all([this.stateWrites, write]).then(() => undefined);
  }

  /** One try of `read`, as the subclass answers it (an array, null, or a promise of one). */
  private readOnce(n: number): Promise<readonly T[] | null> | readonly T[] | null {
    this.pendingState = undefined;
    return this.read(n);
  }

  private checked(items: readonly T[] | null, attempt: number): readonly T[] | null {
    if (items !== null && !Array.isArray(items)) {
      throw new ReadError(this.constructor.name, attempt, undefined, `read() must return an array or null, got ${describeValue(items)}`);
    }
    return items;
  }

  /** After a failed try: back off and try again while the error is retriable and tries are left. */
  private async retry(error: unknown, n: number, failed: number): Promise<readonly T[] | null> {
    const { attempts, backoffMs, maxBackoffMs } = this.options;
    for (let attempt = failed; ; attempt++) {
      const scrubbed = this.scrubber.error(error);
      if (!isRetriable(error) || attempt >= attempts) {
        throw new ReadError(this.constructor.name, attempt, scrubbed, scrubbed instanceof Error ? scrubbed.message : String(scrubbed));
      }
      const delayMs = backoffDelay(attempt, backoffMs, maxBackoffMs);
      this.logger.warn({ ...brief(scrubbed), attempt, delayMs }, 'read failed, retrying');
      this.logger.debug({ err: scrubbed }, 'read failure');
      await sleep(delayMs, undefined, 'read backoff');
      this.pendingState = undefined;
      let items: readonly T[] | null;
      try {
        items = await this.read(n);
      } catch (next) {
        error = next;
        continue;
      }
      return this.checked(items, attempt + 1);
    }
  }

  private finish(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.close();
      } finally {
        await this.stateWrites;
      }
    })();
    return this.closing;
  }

  private makeLog(): SourceLog {
    const at =
      (level: 'debug' | 'info' | 'warn' | 'error'): LogFn =>
      (message, fields) => {
        if (!this.logger.isLevelEnabled(level)) return;
        if (fields === undefined) this.logger[level](this.scrubber.text(String(message)));
        else this.logger[level](this.scrubber.fields(fields), this.scrubber.text(String(message)));
      };
    return Object.assign(at('info'), { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') });
  }
}

/** What the iterators may do with their source. */
interface SourceAccess<T, S> {
  start(): Promise<void>;
  /** One try; a failure goes to `retry`, which tries again or throws the ReadError. */
  read(n: number): Promise<readonly T[] | null> | readonly T[] | null;
  retry(error: unknown, n: number): Promise<readonly T[] | null>;
  check(items: readonly T[] | null): readonly T[] | null;
  takeState(): { value: S } | undefined;
  commit(checkpoint: S, persist: boolean): void;
  finish(): Promise<void>;
  readonly batchSize: number;
}

/**
 * Iterates a source: one `read` per `batchSize` items. Item by item (`pages` false) the buffered
 * items are handed out without an async frame each; page by page, each non-empty read is one value.
 */
class SourceIterator<T, S> implements AsyncIterator<T> {
  protected items: readonly T[] = [];
  protected index = 0;
  protected done = false;
  private started = false;

  constructor(
    protected readonly source: SourceAccess<T, S>,
    protected readonly pages: boolean,
  ) {}

  next(): Promise<IteratorResult<T>> {
    if (this.index < this.items.length) return Promise.resolve({ value: this.items[this.index++]!, done: false });
    return this.fill();
  }

  private async fill(): Promise<IteratorResult<T>> {
    try {
      if (!this.started) {
        this.started = true;
        await this.source.start();
      }
      for (;;) {
        if (this.done) return { value: undefined, done: true };
        const n = this.source.batchSize;
        let items: readonly T[] | null;
        try {
          const got = this.source.read(n);
          items = got === null || Array.isArray(got) ? (got as readonly T[] | null) : await got;
        } catch (error) {
          items = await this.source.retry(error, n);
        }
        items = this.source.check(items);
        const state = this.source.takeState();
        if (items === null) {
          if (state !== undefined) this.checkpoint(state.value);
          this.done = true;
          await this.source.finish();
          return { value: undefined, done: true };
        }
        if (items.length > 0) this.received(items);
        if (state !== undefined) this.checkpoint(state.value);
        if (items.length > 0) {
          if (this.pages) return { value: items as unknown as T, done: false };
          this.items = items;
          this.index = 1;
          return { value: items[0]!, done: false };
        }
      }
    } catch (error) {
      this.done = true;
      await this.source.finish();
      throw error;
    }
  }

  protected received(_items: readonly T[]): void {}

  /** Without acknowledgements, a checkpoint holds as soon as its read returned. */
  protected checkpoint(value: S): void {
    this.source.commit(value, false);
  }

  async return(): Promise<IteratorResult<T>> {
    this.done = true;
    this.items = [];
    await this.source.finish();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * With a state store: core acknowledges each value ([ack]: an item, or a page); a checkpoint is
 * stored once every item read up to it was acknowledged, so a rerun never skips an unfinished item.
 */
class AckingIterator<T, S> extends SourceIterator<T, S> {
  /** Values handed out and not yet part of the acknowledged prefix, with how many items each is. */
  private window: { value: unknown; items: number; acked: boolean }[] = [];
  private head = 0;
  /** Items read, and items in the acknowledged prefix. */
  private readCount = 0;
  private doneCount = 0;
  private checkpoints: { position: number; value: S }[] = [];

  protected override received(items: readonly T[]): void {
    if (this.pages) this.window.push({ value: items, items: items.length, acked: false });
    else for (const item of items) this.window.push({ value: item, items: 1, acked: false });
    this.readCount += items.length;
  }

  protected override checkpoint(value: S): void {
    this.checkpoints.push({ position: this.readCount, value });
    this.advance();
  }

  [ack](value: unknown): void {
    const w = this.window;
    for (let i = this.head; i < w.length; i++) {
      const e = w[i]!;
      if (!e.acked && Object.is(e.value, value)) {
        e.acked = true;
        break;
      }
    }
    while (this.head < w.length && w[this.head]!.acked) this.doneCount += w[this.head++]!.items;
    if (this.head > 1024 && this.head * 2 > w.length) {
      this.window = w.slice(this.head);
      this.head = 0;
    }
    this.advance();
  }

  private advance(): void {
    let last: { position: number; value: S } | undefined;
    while (this.checkpoints.length > 0 && this.checkpoints[0]!.position <= this.doneCount) last = this.checkpoints.shift();
    if (last !== undefined) this.source.commit(last.value, true);
  }
}
