import { OptionsError, describeValue, type Logger } from '@snoopy/core';
import type { Cache } from '@snoopy/cache';

/** Options of `bufferedWriter(send, options)`. */
export interface BufferedWriterOptions<T = unknown> {
  /** Flush when the buffer holds this many records. @default 500 */
  readonly maxRecords?: number;
  /**
   * Flush before the encoded batch would exceed this many bytes (records joined by `\n`, as
   * NDJSON). A batch is cut before the record that would cross it, so it never overshoots.
   * @default 256_000
   */
  readonly maxBytes?: number;
  /** Flush this long after the first record entered an empty buffer. @default 2000 */
  readonly maxDelayMs?: number;
  /**
   * Records held (buffered, queued or being sent) before the writer applies backpressure: a
   * snap pulls no more and `write()` waits. At least `maxRecords`.
   * @default 10_000
   */
  readonly maxBuffered?: number;
  /** Batches sent at the same time. @default 1 */
  readonly concurrency?: number;
  /** Tries per batch (the first one included) for errors not marked `retriable: false`. @default 3 */
  readonly attempts?: number;
  /** First backoff between tries; doubled each time, with full jitter. @default 100 */
  readonly backoffMs?: number;
  /** Longest backoff between tries. @default 30_000 */
  readonly maxBackoffMs?: number;
  /** Encodes one record, for the byte count and `batch.body`. @default JSON.stringify */
  readonly encode?: (record: T) => string | Uint8Array;
  /** Name in logs and errors. @default 'writer' */
  readonly name?: string;
  /** Parent logger; the writer logs through a child. @default rootLogger() */
  readonly logger?: Logger;
}

export interface ResolvedBufferedWriterOptions<T = unknown> {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly maxDelayMs: number;
  readonly maxBuffered: number;
  readonly concurrency: number;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly encode: ((record: T) => string | Uint8Array) | undefined;
  readonly name: string;
  readonly logger: Logger | undefined;
}

export const bufferedWriterDefaults = Object.freeze({
  maxRecords: 500,
  maxBytes: 256_000,
  maxDelayMs: 2000,
  maxBuffered: 10_000,
  concurrency: 1,
  attempts: 3,
  backoffMs: 100,
  maxBackoffMs: 30_000,
  name: 'writer',
});

/** Options of a `DataSource` (its second constructor argument). */
export interface DataSourceOptions {
  /** Items asked of `read(n)` at a time. @default 100 */
  readonly batchSize?: number;
  /** Tries per `read` (the first one included) for errors not marked `retriable: false`. @default 3 */
  readonly attempts?: number;
  /** First backoff between tries; doubled each time, with full jitter. @default 100 */
  readonly backoffMs?: number;
  /** Longest backoff between tries. @default 30_000 */
  readonly maxBackoffMs?: number;
  /**
   * Where `state(checkpoint)` is kept, so that a rerun resumes: any `@snoopy/cache` Cache (or a
   * namespace of one). The source does not close it: the caller who opened it does.
   * @default undefined (checkpoints live in memory only)
   */
  readonly stateStore?: Cache<unknown>;
  /** Key of the checkpoint in `stateStore`. @default the class name */
  readonly stateKey?: string;
  /** Parent logger; `this.log` is a child of it. @default rootLogger() */
  readonly logger?: Logger;
}

export interface ResolvedDataSourceOptions {
  readonly batchSize: number;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly stateStore: Cache<unknown> | undefined;
  readonly stateKey: string | undefined;
  readonly logger: Logger | undefined;
}

export const dataSourceDefaults = Object.freeze({
  batchSize: 100,
  attempts: 3,
  backoffMs: 100,
  maxBackoffMs: 30_000,
});

/** Throws the house-style option error. */
export function fail(where: string, key: string, expected: string, got: unknown): never {
  throw new OptionsError(`${where}: Expected \`${key}\` to be ${expected}, got ${describeValue(got)}`);
}

function int(where: string, key: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(where, key, `an integer >= ${min}`, value);
  return value;
}

function checkKeys(where: string, o: object, known: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) fail(where, key, `absent (known options: ${known.join(', ')})`, (o as Record<string, unknown>)[key]);
  }
}

function checkObject(where: string, o: unknown): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) fail(where, 'options', 'an object', o);
}

function checkLogger(where: string, logger: unknown): void {
  if (logger !== undefined && (logger === null || typeof (logger as Logger).child !== 'function')) fail(where, 'logger', 'a pino logger', logger);
}

const writerKeys = ['maxRecords', 'maxBytes', 'maxDelayMs', 'maxBuffered', 'concurrency', 'attempts', 'backoffMs', 'maxBackoffMs', 'encode', 'name', 'logger'];

/** Merges `options` over the defaults, validates every field and freezes the result. */
export function resolveBufferedWriterOptions<T>(options: BufferedWriterOptions<T> | undefined = {}): ResolvedBufferedWriterOptions<T> {
  const where = 'bufferedWriter';
  checkObject(where, options);
  checkKeys(where, options, writerKeys);
  const d = bufferedWriterDefaults;
  const maxRecords = int(where, 'maxRecords', options.maxRecords, 1, d.maxRecords);
  const maxBytes = int(where, 'maxBytes', options.maxBytes, 1, d.maxBytes);
  const maxDelayMs = int(where, 'maxDelayMs', options.maxDelayMs, 0, d.maxDelayMs);
  const maxBuffered = int(where, 'maxBuffered', options.maxBuffered, 1, Math.max(d.maxBuffered, maxRecords));
  if (maxBuffered < maxRecords) fail(where, 'maxBuffered', `an integer >= maxRecords (${maxRecords})`, maxBuffered);
  const concurrency = int(where, 'concurrency', options.concurrency, 1, d.concurrency);
  const attempts = int(where, 'attempts', options.attempts, 1, d.attempts);
  const backoffMs = int(where, 'backoffMs', options.backoffMs, 0, d.backoffMs);
  const maxBackoffMs = int(where, 'maxBackoffMs', options.maxBackoffMs, 0, d.maxBackoffMs);
  if (options.encode !== undefined && typeof options.encode !== 'function') fail(where, 'encode', 'a function', options.encode);
  const name = options.name ?? d.name;
  if (typeof name !== 'string' || name.length === 0) fail(where, 'name', 'a non-empty string', name);
  checkLogger(where, options.logger);
  return Object.freeze({
    maxRecords,
    maxBytes,
    maxDelayMs,
    maxBuffered,
    concurrency,
    attempts,
    backoffMs,
    maxBackoffMs,
    encode: options.encode,
    name,
    logger: options.logger,
  });
}

const sourceKeys = ['batchSize', 'attempts', 'backoffMs', 'maxBackoffMs', 'stateStore', 'stateKey', 'logger'];

/** Merges `options` over the defaults, validates every field and freezes the result. */
export function resolveDataSourceOptions(options: DataSourceOptions | undefined = {}, where = 'DataSource'): ResolvedDataSourceOptions {
  checkObject(where, options);
  checkKeys(where, options, sourceKeys);
  const d = dataSourceDefaults;
  const store = options.stateStore;
  if (store !== undefined && (store === null || typeof store.get !== 'function' || typeof store.set !== 'function')) {
    fail(where, 'stateStore', 'a Cache', store);
  }
  if (options.stateKey !== undefined && (typeof options.stateKey !== 'string' || options.stateKey.length === 0)) {
    fail(where, 'stateKey', 'a non-empty string', options.stateKey);
  }
  checkLogger(where, options.logger);
  return Object.freeze({
    batchSize: int(where, 'batchSize', options.batchSize, 1, d.batchSize),
    attempts: int(where, 'attempts', options.attempts, 1, d.attempts),
    backoffMs: int(where, 'backoffMs', options.backoffMs, 0, d.backoffMs),
    maxBackoffMs: int(where, 'maxBackoffMs', options.maxBackoffMs, 0, d.maxBackoffMs),
    stateStore: store,
    stateKey: options.stateKey,
    logger: options.logger,
  });
}
