import type { Logger } from 'pino';
import { OptionsError, describeValue } from './errors.js';

/** Anything a snap can read from: arrays, generators, Node Readables, ix sequences, Kafka topics. */
export type Source<T = unknown> = Iterable<T> | AsyncIterable<T>;

/**
 * Anything a snap can write to: a function (sync or async; its promise is awaited), or an object
 * implementing core's `DeferredSink` protocol (a Kafka Topic, a Cache).
 */
export type Sink<T = any> = ((value: T) => unknown) | import('./protocol.js').DeferredSink<T>;

/** What to do with a message whose handler or sinks failed. */
export type ErrorPolicy =
  | 'stop'
  | 'skip'
  | {
      /** Try the handler and sinks again before giving up. */
      readonly retry?: {
        /** Attempts in all, the first included. @default 3 */
        readonly attempts?: number;
        /** Wait before the second attempt; doubles for each next one. @default 100 */
        readonly backoffMs?: number;
      };
      /**
       * Receives a `DeadLetter` for each message that still fails; the message then counts as
       * done. Without it, a message that still fails stops the stream.
       */
      readonly deadLetter?: Sink;
    };

export interface SnapOptions {
  /** Sinks every value the handler produces is sent to, in this order. @default [] */
  readonly sink?: Sink | readonly Sink[];
  /** Name in logs, errors and the summary. @default the handler's name, or `snap-<n>` */
  readonly name?: string;
  /**
   * Handler calls in flight at once. Outputs keep input order, or per-key order where the source
   * describes a key for each message. @default 1
   */
  readonly concurrency?: number;
  /** Hand the handler arrays of up to `size` messages, waiting at most `ms` to fill one. @default undefined */
  readonly batch?: { readonly size: number; readonly ms?: number };
  /** @default 'stop' */
  readonly errors?: ErrorPolicy;
  /**
   * Messages handed to deferred sinks (Kafka, Cache) whose completion is still outstanding; past
   * this, the snap pulls no more until some complete. @default 10000
   */
  readonly maxPending?: number;
}

export interface ResolvedErrorPolicy {
  readonly kind: 'stop' | 'skip' | 'retry';
  readonly attempts: number;
  readonly backoffMs: number;
  readonly deadLetter: Sink | undefined;
}

export interface ResolvedSnapOptions {
  readonly sinks: readonly Sink[];
  readonly name: string | undefined;
  readonly concurrency: number;
  readonly batch: { readonly size: number; readonly ms: number } | undefined;
  readonly errors: ResolvedErrorPolicy;
  readonly maxPending: number;
}

export const snapDefaults = Object.freeze({
  concurrency: 1,
  maxPending: 10_000,
  batchMs: 1000,
  retryAttempts: 3,
  retryBackoffMs: 100,
});

function fail(where: string, field: string, expected: string, got: unknown): never {
  throw new OptionsError(`${where}: Expected \`${field}\` to be ${expected}, got ${describeValue(got)}`);
}

function positiveInt(where: string, field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(where, field, `an integer >= ${min}`, value);
  }
  return value;
}

function isSink(value: unknown): value is Sink {
  return typeof value === 'function' || (value !== null && typeof value === 'object' && typeof (value as Record<symbol, unknown>)[Symbol.for('snoopy.deliver')] === 'function');
}

export function isSource(value: unknown): value is Source {
  return (
    value !== null &&
    value !== undefined &&
    (typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' ||
      typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')
  );
}

function resolveErrors(where: string, value: unknown): ResolvedErrorPolicy {
  const base = { attempts: 1, backoffMs: 0, deadLetter: undefined };
  if (value === undefined || value === 'stop') return { kind: 'stop', ...base };
  if (value === 'skip') return { kind: 'skip', ...base };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(where, 'errors', "'stop', 'skip' or { retry, deadLetter }", value);
  }
  const { retry, deadLetter, ...rest } = value as { retry?: unknown; deadLetter?: unknown };
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) fail(where, `errors.${unknownKey}`, 'absent (known: retry, deadLetter)', (rest as Record<string, unknown>)[unknownKey]);
  if (deadLetter !== undefined && !isSink(deadLetter)) fail(where, 'errors.deadLetter', 'a sink (a function or a deferred sink)', deadLetter);
  let attempts = 1;
  let backoffMs = 0;
  if (retry !== undefined) {
    if (retry === null || typeof retry !== 'object') fail(where, 'errors.retry', '{ attempts, backoffMs }', retry);
    const r = retry as { attempts?: unknown; backoffMs?: unknown };
    attempts = r.attempts === undefined ? snapDefaults.retryAttempts : positiveInt(where, 'errors.retry.attempts', r.attempts, 1);
    backoffMs = r.backoffMs === undefined ? snapDefaults.retryBackoffMs : positiveInt(where, 'errors.retry.backoffMs', r.backoffMs, 0);
  }
  return { kind: 'retry', attempts, backoffMs, deadLetter: deadLetter as Sink | undefined };
}

const knownSnapOptions = new Set(['sink', 'name', 'concurrency', 'batch', 'errors', 'maxPending']);

/** Merges `options` over the defaults, validates every field and freezes the result. */
export function resolveSnapOptions(options: SnapOptions | undefined, where = 'snap'): ResolvedSnapOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) fail(where, 'options', 'an object', o);
  for (const key of Object.keys(o)) {
    if (!knownSnapOptions.has(key)) fail(where, key, `absent (known options: ${[...knownSnapOptions].join(', ')})`, (o as Record<string, unknown>)[key]);
  }
  const name = o.name;
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) fail(where, 'name', 'a non-empty string', name);
  const at = name ? `snap ${name}` : where;

  const rawSinks = o.sink === undefined ? [] : Array.isArray(o.sink) ? o.sink : [o.sink];
  rawSinks.forEach((s: unknown, i: number) => {
    if (!isSink(s)) fail(at, Array.isArray(o.sink) ? `sink[${i}]` : 'sink', 'a function or a deferred sink (Topic, Cache)', s);
  });

  const concurrency = o.concurrency === undefined ? snapDefaults.concurrency : positiveInt(at, 'concurrency', o.concurrency, 1);
  const maxPending = o.maxPending === undefined ? snapDefaults.maxPending : positiveInt(at, 'maxPending', o.maxPending, 1);

  let batch: ResolvedSnapOptions['batch'];
  if (o.batch !== undefined) {
    if (o.batch === null || typeof o.batch !== 'object') fail(at, 'batch', '{ size, ms? }', o.batch);
    const size = positiveInt(at, 'batch.size', o.batch.size, 1);
    const ms = o.batch.ms === undefined ? snapDefaults.batchMs : positiveInt(at, 'batch.ms', o.batch.ms, 0);
    batch = Object.freeze({ size, ms });
  }

  return Object.freeze({
    sinks: Object.freeze([...rawSinks]) as readonly Sink[],
    name,
    concurrency,
    batch,
    errors: Object.freeze(resolveErrors(at, o.errors)),
    maxPending,
  });
}

export interface StreamOptions {
  /** Aborting it stops pulling, finishes in-flight messages, flushes and closes, then resolves. */
  readonly signal?: AbortSignal;
  /** Stop gracefully on SIGINT and SIGTERM; a second signal exits at once. @default true */
  readonly handleSignals?: boolean;
  /** Logger for lifecycle events (info) and per-message events (debug). @default rootLogger() */
  readonly logger?: Logger;
  /**
   * Call `[Symbol.asyncDispose]()` on every source and sink that has it (Topics, Caches) once the
   * stream has settled. Off by default: the stream creates none of them, so it closes none of
   * them; the caller that made a Topic or a Cache closes it (`await using`, `close()`), and can
   * keep using it after `stream()`. @default false
   */
  readonly dispose?: boolean;
  /** Where progress bars go; drawn only when it is a TTY. `false` turns them off. @default process.stderr */
  readonly progress?: NodeJS.WritableStream | false;
  /**
   * Longest wait for the whole stop, from the signal (or failure) to `stream()` settling: handlers
   * in flight, deferred sink completions, partial batches, sources closing. Past it the stream
   * abandons what is left (unacknowledged) and rejects with a `TimeoutError` naming it. @default 10000
   */
  readonly closeTimeoutMs?: number;
  /**
   * Every so many milliseconds, one info line per snap: messages per second since the last line,
   * totals (in, out, errors) and, where its sources report it through `[progress]`, consumer lag.
   * For endless sources, where no bar can show a total. `false` or `0` turns it off. @default 30000
   */
  readonly progressIntervalMs?: number | false;
}

export interface ResolvedStreamOptions {
  readonly signal: AbortSignal | undefined;
  readonly handleSignals: boolean;
  readonly logger: Logger | undefined;
  readonly dispose: boolean;
  readonly progress: (NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) | false;
  readonly closeTimeoutMs: number;
  /** `false` when off. */
  readonly progressIntervalMs: number | false;
}

export const streamDefaults = Object.freeze({
  closeTimeoutMs: 10_000,
  progressIntervalMs: 30_000,
});

const knownStreamOptions = new Set(['signal', 'handleSignals', 'logger', 'dispose', 'progress', 'closeTimeoutMs', 'progressIntervalMs']);

export function resolveStreamOptions(options: StreamOptions | undefined): ResolvedStreamOptions {
  const o = options ?? {};
  const where = 'stream';
  if (typeof o !== 'object' || o === null) fail(where, 'options', 'an object', o);
  for (const key of Object.keys(o)) {
    if (!knownStreamOptions.has(key)) fail(where, key, `absent (known options: ${[...knownStreamOptions].join(', ')})`, (o as Record<string, unknown>)[key]);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) fail(where, 'signal', 'an AbortSignal', o.signal);
  if (o.handleSignals !== undefined && typeof o.handleSignals !== 'boolean') fail(where, 'handleSignals', 'a boolean', o.handleSignals);
  if (o.dispose !== undefined && typeof o.dispose !== 'boolean') fail(where, 'dispose', 'a boolean', o.dispose);
  if (o.logger !== undefined && (o.logger === null || typeof (o.logger as Logger).child !== 'function')) fail(where, 'logger', 'a pino logger', o.logger);
  if (o.progress !== undefined && o.progress !== false && typeof (o.progress as NodeJS.WritableStream)?.write !== 'function') {
    fail(where, 'progress', 'a writable stream or false', o.progress);
  }
  const closeTimeoutMs = o.closeTimeoutMs === undefined ? streamDefaults.closeTimeoutMs : positiveInt(where, 'closeTimeoutMs', o.closeTimeoutMs, 0);
  let progressIntervalMs: number | false = streamDefaults.progressIntervalMs;
  if (o.progressIntervalMs === false) progressIntervalMs = false;
  else if (o.progressIntervalMs !== undefined) {
    if (typeof o.progressIntervalMs !== 'number' || !Number.isInteger(o.progressIntervalMs) || o.progressIntervalMs < 0 || o.progressIntervalMs > 2_147_483_647) {
      fail(where, 'progressIntervalMs', 'an integer >= 0 (milliseconds) or false', o.progressIntervalMs);
    }
    progressIntervalMs = o.progressIntervalMs === 0 ? false : o.progressIntervalMs;
  }
  return Object.freeze({
    signal: o.signal,
    handleSignals: o.handleSignals ?? true,
    logger: o.logger,
    dispose: o.dispose ?? false,
    progress: o.progress === undefined ? process.stderr : o.progress,
    closeTimeoutMs,
    progressIntervalMs,
  });
}
