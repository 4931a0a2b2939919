import type { Cursor } from './types.js';

/** An event about to be stored, with the names of every index it belongs to. */
export interface NewRecord {
  readonly at: number;
  readonly event: unknown;
  /** Index names (see the package README); always includes the all-events index `'[]'`. */
  readonly indexes: readonly string[];
}

/** An event as a store returns it. */
export interface StoredRecord extends Cursor {
  readonly event: unknown;
}

/**
 * What a feed needs from its storage. `levelStore`, `redisStore` and `postgresStore` implement
 * it, and one shared test suite checks that they behave the same. A store belongs to one feed.
 * A store never closes the client it was given.
 */
export interface FeedStore {
  /** A short label for errors and logs (`level`, `redis:<prefix>`, `postgres:<schema>`). */
  readonly name: string;
  /** Creates what the store needs (tables, the sequence); idempotent. */
  init(): Promise<void>;
  /**
   * Stores the records atomically (all or none), in order, assigning each the next sequence
   * number; resolves with those numbers.
   */
  append(records: readonly NewRecord[]): Promise<number[]>;
  /** Up to `limit` positions of `index`, newest first, strictly older than `before` if given. */
  page(index: string, before: Cursor | undefined, limit: number): Promise<Cursor[]>;
  /**
   * Optional: `page` of each index (same order), in one round trip. Without it the feed calls
   * `page` for each index at once.
   */
  pageMany?(indexes: readonly string[], before: Cursor | undefined, limit: number): Promise<Cursor[][]>;
  /** The records at these positions (`undefined` where one was removed meanwhile). */
  load(positions: readonly Cursor[]): Promise<(StoredRecord | undefined)[]>;
  /** How many positions `index` holds. */
  count(index: string): Promise<number>;
  /** The `n`-th newest position (0-based) of `index`, if it has that many. */
  nth(index: string, n: number): Promise<Cursor | undefined>;
  /**
   * Removes up to `limit` of the oldest events strictly older than `cutoff`, with all their index
   * entries; resolves with how many it removed.
   */
  removeOlder(cutoff: Cursor, limit: number): Promise<number>;
  /** Releases what the store itself holds (never the client it was given). Idempotent. */
  close(): Promise<void>;
}
