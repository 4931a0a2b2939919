import { OptionsError, describeValue } from '@snoopy/core';
import { JsonCodec, type Codec } from '@snoopy/codecs';
import type { CacheKey } from './types.js';

/** Options of `new Cache(path, options)`. */
export interface CacheOptions<V = unknown> {
  /**
   * Encodes and decodes values. Any `Codec` from `@snoopy/codecs`, or your own object of that shape.
   * @default new JsonCodec()
   */
  readonly codec?: Codec<V>;
  /**
   * Ask LevelDB to fsync each batch before its writes resolve. Without it a write survives a
   * process crash (it is in the OS) but not a power loss.
   * @default false
   */
  readonly sync?: boolean;
  /**
   * The most writes coalesced into one LevelDB batch. A `batch([...])` call is never split.
   * @default 10_000
   */
  readonly batchSize?: number;
  /**
   * Writes queued or in flight at which the sink asks core to wait before it delivers more.
   * @default 100_000
   */
  readonly highWaterMark?: number;
  /**
   * Milliseconds between sweeps that remove expired entries; `0` turns the periodic sweep off
   * (expired entries stay invisible and `sweep()` still removes them).
   * @default 60_000
   */
  readonly sweepInterval?: number;
  /**
   * The clock TTLs are measured with, in ms since the epoch.
   * @default Date.now
   */
  readonly clock?: () => number;
}

/** Options of `cache.namespace(name, options)`. */
export interface NamespaceOptions<V = unknown> {
  /**
   * Codec of the namespace's values.
   * @default the codec of the cache `namespace()` was called on
   */
  readonly codec?: Codec<V>;
}

/** Options of `cache.set(key, value, options)`. */
export interface SetOptions {
  /**
   * Milliseconds after which the entry expires: it is invisible from then on and a sweep removes
   * it. The expiry is stored with the entry and survives a reopen.
   * @default undefined (never expires)
   */
  readonly ttl?: number;
}

/** Options of `cache.wait(key, options)`. */
export interface WaitOptions {
  /**
   * Milliseconds to wait before failing with `SNOOPY_TIMEOUT`.
   * @default undefined (no timeout)
   */
  readonly timeout?: number;
  /**
   * Aborts the wait with `SNOOPY_ABORTED`.
   * @default undefined
   */
  readonly signal?: AbortSignal;
}

/** A key range, as for `entries()` and `deleteRange()`. Bounds combine (the tightest wins). */
export interface KeyRange<K extends CacheKey = CacheKey> {
  /** Keys greater than this. @default undefined */
  readonly gt?: K;
  /** Keys greater than or equal to this. @default undefined */
  readonly gte?: K;
  /** Keys less than this. @default undefined */
  readonly lt?: K;
  /** Keys less than or equal to this. @default undefined */
  readonly lte?: K;
  /** String keys starting with this string, or Buffer keys starting with these bytes. @default undefined */
  readonly prefix?: string | Buffer;
}

/** Options of `entries()`, `keys()` and `values()`. */
export interface RangeOptions<K extends CacheKey = CacheKey> extends KeyRange<K> {
  /** Iterate from the last key down. @default false */
  readonly reverse?: boolean;
  /** Yield at most this many entries. @default Infinity */
  readonly limit?: number;
}

export interface ResolvedCacheOptions<V> {
  readonly codec: Codec<V>;
  readonly sync: boolean;
  readonly batchSize: number;
  readonly highWaterMark: number;
  readonly sweepInterval: number;
  readonly clock: () => number;
}

/** The options that belong to the LevelDB store, shared by every Cache opened on one path. */
export const storeOptionNames = ['sync', 'batchSize', 'highWaterMark', 'sweepInterval', 'clock'] as const;

export const cacheDefaults = Object.freeze({
  sync: false,
  batchSize: 10_000,
  highWaterMark: 100_000,
  sweepInterval: 60_000,
  clock: Date.now,
});

function expectInteger(name: string, value: unknown, min: number, where?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new OptionsError(`${where === undefined ? '' : `${where}: `}Expected \`${name}\` to be an integer >= ${min}, got ${describeValue(value)}`);
  }
  return value;
}

function expectBoolean(name: string, value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new OptionsError(`${where}: Expected \`${name}\` to be a boolean, got ${describeValue(value)}`);
  return value;
}

export function expectCodec<V>(name: string, value: unknown, where?: string): Codec<V> {
  const codec = value as Partial<Codec<V>> | null;
  if (typeof codec !== 'object' || codec === null || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new OptionsError(`${where === undefined ? '' : `${where}: `}Expected \`${name}\` to be a codec (an object with encode and decode), got ${describeValue(value)}`);
  }
  return codec as Codec<V>;
}

/** Every key `CacheOptions` knows; anything else (a misspelt `batchsize`) is refused. */
const knownCacheOptions: ReadonlySet<string> = new Set(['codec', ...storeOptionNames]);

/**
 * Merges `options` over the defaults, validates every field and freezes the result. Unknown keys
 * are refused; every message starts with `Cache <path>` when the path is given.
 */
export function resolveCacheOptions<V>(options: CacheOptions<V> = {}, path?: string): ResolvedCacheOptions<V> {
  const where = path === undefined ? 'Cache' : `Cache ${path}`;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError(`${where}: Expected cache options to be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!knownCacheOptions.has(key)) {
      const near = [...knownCacheOptions].find((k) => k.toLowerCase() === key.toLowerCase());
      throw new OptionsError(
        `${where}: Expected \`${key}\` to be absent${near === undefined ? '' : ` (did you mean \`${near}\`?)`} (known options: ${[...knownCacheOptions].join(', ')}), got ${describeValue((options as Record<string, unknown>)[key])}`,
      );
    }
  }
  const clock = options.clock ?? cacheDefaults.clock;
  if (typeof clock !== 'function') throw new OptionsError(`${where}: Expected \`clock\` to be a function, got ${describeValue(clock)}`);
  return Object.freeze({
    codec: options.codec === undefined ? (new JsonCodec() as Codec<V>) : expectCodec<V>('codec', options.codec, where),
    sync: expectBoolean('sync', options.sync ?? cacheDefaults.sync, where),
    batchSize: expectInteger('batchSize', options.batchSize ?? cacheDefaults.batchSize, 1, where),
    highWaterMark: expectInteger('highWaterMark', options.highWaterMark ?? cacheDefaults.highWaterMark, 1, where),
    sweepInterval: expectInteger('sweepInterval', options.sweepInterval ?? cacheDefaults.sweepInterval, 0, where),
    clock,
  });
}

export function validateTtl(ttl: unknown): number | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
    throw new OptionsError(`Expected \`ttl\` to be a finite number of ms > 0, got ${describeValue(ttl)}`);
  }
  return ttl;
}

export function validateWaitOptions(options: WaitOptions): void {
  if (typeof options !== 'object' || options === null) throw new OptionsError(`Expected wait options to be an object, got ${describeValue(options)}`);
  const { timeout, signal } = options;
  if (timeout !== undefined && (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0)) {
    throw new OptionsError(`Expected \`timeout\` to be a number of ms >= 0, got ${describeValue(timeout)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new OptionsError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}`);
  }
}

export function validateLimit(limit: unknown): number {
  if (limit === undefined || limit === Infinity) return Infinity;
  return expectInteger('limit', limit, 0);
}
