import { SnoopyError, describeValue, type SnoopyErrorOptions } from '@snoopy/core';

/** An event cannot be stored: it is not an object, an indexed value is not a scalar, or `at` is bad. */
export class FeedEventError extends SnoopyError {
  override name = 'FeedEventError';
  constructor(message: string, options: SnoopyErrorOptions = {}) {
    super('SNOOPY_FEED_EVENT', message, options);
  }
}

/** A filter names a key the feed does not index, or a value that cannot match. */
export class FeedFilterError extends SnoopyError {
  override name = 'FeedFilterError';
  readonly key: string;
  constructor(key: string, message: string, options: SnoopyErrorOptions = {}) {
    super('SNOOPY_FEED_FILTER', message, options);
    this.key = key;
  }
}

/** A query's OR, or an event's list values, expand to more index combinations than `maxFanOut`. */
export class FeedFanOutError extends SnoopyError {
  override name = 'FeedFanOutError';
  readonly combinations: number;
  readonly limit: number;
  constructor(what: 'query' | 'event', combinations: number, limit: number, options: SnoopyErrorOptions = {}) {
    super(
      'SNOOPY_FEED_FANOUT',
      what === 'query'
        ? `The filter expands to ${combinations} index combinations, more than \`maxFanOut\` (${limit}): narrow the lists or raise the bound`
        : `The event's list values expand to ${combinations} index entries, more than \`maxFanOut\` (${limit})`,
      options,
    );
    this.combinations = combinations;
    this.limit = limit;
  }
}

/** The store (LevelDB, Redis, PostgreSQL) failed; `cause` is the client's error. */
export class FeedStoreError extends SnoopyError {
  override name = 'FeedStoreError';
  readonly store: string;
  constructor(store: string, what: string, options: SnoopyErrorOptions = {}) {
    const reason = options.cause instanceof Error ? `: ${options.cause.message}` : options.cause === undefined ? '' : `: ${describeValue(options.cause)}`;
    super('SNOOPY_FEED_STORE', `Feed store ${store}: ${what} failed${reason}`, options);
    this.store = store;
  }
}

/**
 * A JSON-RPC call failed. `rpcCode` is the JSON-RPC error code the server answered with
 * (-32700, -32600, -32601, -32602, -32603, or -32000 for a feed error, whose snoopy code is
 * `remoteCode`), or `undefined` when the server could not be reached or answered something
 * that is not JSON-RPC (then `retriable` is true).
 */
export class FeedRpcError extends SnoopyError {
  override name = 'FeedRpcError';
  readonly rpcCode: number | undefined;
  readonly remoteCode: string | undefined;
  readonly status: number | undefined;
  constructor(
    message: string,
    details: { rpcCode?: number; remoteCode?: string; status?: number } = {},
    options: SnoopyErrorOptions = {},
  ) {
    super('SNOOPY_FEED_RPC', message, { retriable: details.rpcCode === undefined, ...options });
    this.rpcCode = details.rpcCode;
    this.remoteCode = details.remoteCode;
    this.status = details.status;
  }
}
