/** A filter value: `291` and `'291'` are the same value (see `normalizeValue`). */
export type FilterScalar = string | number | bigint | boolean;

/**
 * Filters of `items`, `scan` and `count`: every key ANDs; a list ORs its values; `[]` matches
 * nothing; `undefined` is no filter on that key. Every key must be one the feed indexes.
 */
export type Filters = Readonly<Record<string, FilterScalar | readonly FilterScalar[] | undefined>>;

/** A position in a feed: events order by `at`, then by `seq` (insertion order), newest first. */
export interface Cursor {
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** The store's insertion sequence number, unique in the feed. */
  readonly seq: number;
}

/** One stored event with its place in the feed, as `scan()` yields it. */
export interface FeedEntry<T> extends Cursor {
  /** The event's id (its `seq` as a decimal string), as `insert()` returned it. */
  readonly id: string;
  readonly event: T;
}

/** Counters of one feed. */
export interface FeedStats {
  /** Events stored. */
  readonly inserted: number;
  /** Events queued or being written. */
  readonly pending: number;
  /** Store writes (each a batch of events). */
  readonly batches: number;
  /** Events removed by retention sweeps. */
  readonly swept: number;
  /** Writes that failed. */
  readonly failures: number;
}
