import { OptionsError, describeValue } from '@snoopy/core';
import type { FeedStore } from './store.js';

/** Options of `feed(options)`. */
export interface FeedOptions<T> {
  /** The fields an event is indexed by; filters may use only these. Required, non-empty. */
  readonly keys: readonly string[];
  /** Where events are kept: `levelStore(cache)`, `redisStore(client)` or `postgresStore(pool)`. Required. */
  readonly store: FeedStore;
  /**
   * The most index combinations one query's ORs (the product of its list lengths) or one
   * event's list values may expand to; past it, `SNOOPY_FEED_FANOUT`.
   * @default 256
   */
  readonly maxFanOut?: number;
  /**
   * Events older than this many ms (by `at`) are removed by the retention sweep.
   * @default undefined (no age limit)
   */
  readonly maxAgeMs?: number;
  /**
   * Only the newest this many events are kept; the sweep removes the rest.
   * @default undefined (no count limit)
   */
  readonly maxItems?: number;
  /**
   * Milliseconds between retention sweeps when `maxAgeMs` or `maxItems` is set; `0` = only
   * when `sweep()` is called.
   * @default 60_000
   */
  readonly sweepInterval?: number;
  /**
   * The most events written to the store in one atomic write (inserts and sink deliveries are
   * coalesced into such batches).
   * @default 500
   */
  readonly batchSize?: number;
  /**
   * Events queued or being written at which the sink asks core to wait before it delivers more.
   * @default 10_000
   */
  readonly highWaterMark?: number;
  /**
   * The `at` of an event that arrives through the sink (or `insert` without `{ at }`):
   * return `undefined` for "now".
   * @default undefined (now)
   */
  readonly at?: (event: T) => number | undefined;
  /**
   * The clock for "now" and for `maxAgeMs`, in ms since the epoch.
   * @default Date.now
   */
  readonly clock?: () => number;
}

export interface ResolvedFeedOptions<T> {
  readonly keys: readonly string[];
  readonly store: FeedStore;
  readonly maxFanOut: number;
  readonly maxAgeMs: number | undefined;
  readonly maxItems: number | undefined;
  readonly sweepInterval: number;
  readonly batchSize: number;
  readonly highWaterMark: number;
  readonly at: ((event: T) => number | undefined) | undefined;
  readonly clock: () => number;
}

export const feedDefaults = Object.freeze({
  maxFanOut: 256,
  sweepInterval: 60_000,
  batchSize: 500,
  highWaterMark: 10_000,
  clock: Date.now,
});

/** Options of `levelStore(cache, options)`. */
export interface LevelStoreOptions {
  /**
   * The cache namespace the feed's keys live in (one feed per namespace).
   * @default 'feed'
   */
  readonly namespace?: string;
}

/** Options of `redisStore(client, options)`. */
export interface RedisStoreOptions {
  /**
   * Prefix of every Redis key of this feed (one feed per prefix).
   * @default 'feed'
   */
  readonly prefix?: string;
  /**
   * Keep at most this many entries per index, trimming the oldest at each write. An event
   * trimmed from the all-events index is deleted.
   * @default undefined (no cap)
   */
  readonly maxPerIndex?: number;
}

/** Options of `postgresStore(pool, options)`. */
export interface PostgresStoreOptions {
  /**
   * The schema of the feed's tables; `init()` creates it if missing.
   * @default 'public'
   */
  readonly schema?: string;
  /**
   * The name of the events table; the index table is `<table>_index`.
   * @default 'feed'
   */
  readonly table?: string;
}

/** Options of `serveFeed(feed, options)`. */
export interface ServeFeedOptions {
  /**
   * The TCP port; `0` picks a free one (see `server.url`).
   * @default 0
   */
  readonly port?: number;
  /**
   * The address to listen on.
   * @default '127.0.0.1'
   */
  readonly host?: string;
  /**
   * When set, every request must carry `Authorization: Bearer <token>` (else HTTP 401).
   * @default undefined (no authentication)
   */
  readonly token?: string;
  /**
   * The largest request body in bytes (else HTTP 413).
   * @default 1_048_576
   */
  readonly maxBodyBytes?: number;
  /**
   * The most calls in one JSON-RPC batch (else -32600).
   * @default 100
   */
  readonly maxBatch?: number;
}

/** Options of `feedClient(url, options)`. */
export interface FeedClientOptions {
  /**
   * Sent as `Authorization: Bearer <token>`.
   * @default undefined
   */
  readonly token?: string;
  /**
   * Milliseconds before a call fails with `SNOOPY_FEED_RPC`.
   * @default 30_000
   */
  readonly timeoutMs?: number;
}

export function expectObject(what: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionsError(`Expected ${what} to be an object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Refuses keys that are not options (a misspelt option would otherwise be ignored). */
export function expectKnownKeys(what: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new OptionsError(`Unknown ${what} option \`${key}\`; known options: ${known.map((k) => `\`${k}\``).join(', ')}`);
    }
  }
}

export function expectInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError(`Expected \`${name}\` to be an integer >= ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` and <= ${max}`}, got ${describeValue(value)}`);
  }
  return value;
}

export function expectOptionalInteger(name: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : expectInteger(name, value, min);
}

export function expectName(name: string, value: unknown, pattern: RegExp, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new OptionsError(`Expected \`${name}\` to be ${rule}, got ${describeValue(value)}`);
  }
  return value;
}

function expectFunction<F>(name: string, value: unknown): F {
  if (typeof value !== 'function') throw new OptionsError(`Expected \`${name}\` to be a function, got ${describeValue(value)}`);
  return value as F;
}

function isStore(value: unknown): value is FeedStore {
  const s = value as Partial<FeedStore> | null;
  return typeof s === 'object' && s !== null && typeof s.append === 'function' && typeof s.page === 'function' && typeof s.load === 'function';
}

const feedOptionNames = ['keys', 'store', 'maxFanOut', 'maxAgeMs', 'maxItems', 'sweepInterval', 'batchSize', 'highWaterMark', 'at', 'clock'] as const;

/** Merges `options` over the defaults, validates every field and freezes the result. */
export function resolveFeedOptions<T>(options: FeedOptions<T>): ResolvedFeedOptions<T> {
  const o = expectObject('feed options', options);
  expectKnownKeys('feed', o, feedOptionNames);
  const keys = o.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '') || new Set(keys).size !== keys.length) {
    throw new OptionsError(`Expected \`keys\` to be a non-empty array of distinct non-empty strings, got ${describeValue(keys)}`);
  }
  if (!isStore(o.store)) {
    throw new OptionsError(`Expected \`store\` to be a feed store (levelStore, redisStore or postgresStore), got ${describeValue(o.store)}`);
  }
  return Object.freeze({
    keys: Object.freeze([...(keys as string[])]),
    store: o.store,
    maxFanOut: expectInteger('maxFanOut', o.maxFanOut ?? feedDefaults.maxFanOut, 1),
    maxAgeMs: expectOptionalInteger('maxAgeMs', o.maxAgeMs, 1),
    maxItems: expectOptionalInteger('maxItems', o.maxItems, 1),
    sweepInterval: expectInteger('sweepInterval', o.sweepInterval ?? feedDefaults.sweepInterval, 0, 2 ** 31 - 1),
    batchSize: expectInteger('batchSize', o.batchSize ?? feedDefaults.batchSize, 1),
    highWaterMark: expectInteger('highWaterMark', o.highWaterMark ?? feedDefaults.highWaterMark, 1),
    at: o.at === undefined ? undefined : expectFunction<(event: T) => number | undefined>('at', o.at),
    clock: expectFunction<() => number>('clock', o.clock ?? feedDefaults.clock),
  });
}

export interface ResolvedServeFeedOptions {
  readonly port: number;
  readonly host: string;
  readonly token: string | undefined;
  readonly maxBodyBytes: number;
  readonly maxBatch: number;
}

export const serveFeedDefaults = Object.freeze({ port: 0, host: '127.0.0.1', maxBodyBytes: 1_048_576, maxBatch: 100 });

export function resolveServeFeedOptions(options: ServeFeedOptions = {}): ResolvedServeFeedOptions {
  const o = expectObject('serveFeed options', options);
  expectKnownKeys('serveFeed', o, ['port', 'host', 'token', 'maxBodyBytes', 'maxBatch']);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === '')) {
    throw new OptionsError(`Expected \`token\` to be a non-empty string, got ${describeValue(o.token)}`);
  }
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) {
    throw new OptionsError(`Expected \`host\` to be a non-empty string, got ${describeValue(o.host)}`);
  }
  return Object.freeze({
    port: expectInteger('port', o.port ?? serveFeedDefaults.port, 0, 65535),
    host: (o.host as string | undefined) ?? serveFeedDefaults.host,
    token: o.token as string | undefined,
    maxBodyBytes: expectInteger('maxBodyBytes', o.maxBodyBytes ?? serveFeedDefaults.maxBodyBytes, 1),
    maxBatch: expectInteger('maxBatch', o.maxBatch ?? serveFeedDefaults.maxBatch, 1),
  });
}

export interface ResolvedFeedClientOptions {
  readonly token: string | undefined;
  readonly timeoutMs: number;
}

export function resolveFeedClientOptions(options: FeedClientOptions = {}): ResolvedFeedClientOptions {
  const o = expectObject('feedClient options', options);
  expectKnownKeys('feedClient', o, ['token', 'timeoutMs']);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === '')) {
    throw new OptionsError(`Expected \`token\` to be a non-empty string, got ${describeValue(o.token)}`);
  }
  return Object.freeze({ token: o.token as string | undefined, timeoutMs: expectInteger('timeoutMs', o.timeoutMs ?? 30_000, 1, 2 ** 31 - 1) });
}
