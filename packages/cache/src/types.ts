import type { Cache } from './cache.js';

/**
 * What a cache key can be. Keys keep their type: `123` and `'123'` are different keys. Order:
 * numbers first (numerically, `-0` is `0`), then strings (by their UTF-8 bytes, which is Unicode
 * code point order), then Buffers (bytewise). A `Uint8Array` is accepted and comes back as a Buffer.
 */
export type CacheKey = string | number | Buffer;

/** One `[key, value]` pair, as the cache yields it and as its sink takes it. */
export type CacheEntry<K extends CacheKey, V> = [key: K, value: V];

/** A write in `cache.batch([...])` on the cache the batch is called on. */
export type LocalBatchOperation<V, K extends CacheKey> =
  | { readonly type: 'set'; readonly key: K; readonly value: V; readonly ttl?: number; readonly namespace?: undefined }
  | { readonly type: 'delete'; readonly key: K; readonly namespace?: undefined };

/**
 * A write in `cache.batch([...])` on another namespace of the same store (a cache returned by
 * `namespace()`, or the root). Its value is encoded with that namespace's codec.
 */
export type NamespacedBatchOperation =
  | { readonly type: 'set'; readonly namespace: Cache<any, any>; readonly key: CacheKey; readonly value: unknown; readonly ttl?: number }
  | { readonly type: 'delete'; readonly namespace: Cache<any, any>; readonly key: CacheKey };

export type BatchOperation<V, K extends CacheKey> = LocalBatchOperation<V, K> | NamespacedBatchOperation;

/** Counters of one LevelDB store (shared by every cache and namespace on its directory). */
export interface CacheStats {
  /** Operations written to LevelDB (puts and deletes, including TTL bookkeeping). */
  readonly writes: number;
  /** LevelDB batches written. */
  readonly batches: number;
  /** Operations queued or in flight, not yet written. */
  readonly pending: number;
  /** Expired entries removed by sweeps. */
  readonly expired: number;
  /** Batches or range deletes that failed. */
  readonly failures: number;
}
