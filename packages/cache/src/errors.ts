import { SnoopyError, describeValue, type SnoopyErrorOptions } from '@snoopy/core';

/** The cache directory is locked by another process. `path` is the directory. */
export class CacheLockedError extends SnoopyError {
  override name = 'CacheLockedError';
  readonly path: string;
  constructor(path: string, options: SnoopyErrorOptions = {}) {
    super('SNOOPY_CACHE_LOCKED', `Cache directory ${path} is locked by another process`, options);
    this.path = path;
  }
}

/** A cache sink was given something other than a `[key, value]` tuple. */
export class CacheSinkInputError extends SnoopyError {
  override name = 'CacheSinkInputError';
  constructor(got: unknown, options: SnoopyErrorOptions = {}) {
    super('SNOOPY_CACHE_SINK_INPUT', `Expected a [key, value] tuple for the cache sink, got ${describeValue(got)}`, options);
  }
}

/** A key is not a string, finite-or-infinite number (not NaN), Buffer or Uint8Array. */
export class CacheKeyError extends SnoopyError {
  override name = 'CacheKeyError';
  constructor(got: unknown, expected = 'a string, a number (not NaN) or a Buffer', options: SnoopyErrorOptions = {}) {
    super('SNOOPY_CACHE_KEY', `Expected a cache key to be ${expected}, got ${describeValue(got)}`, options);
  }
}

/** LevelDB failed to read or write; `cause` is LevelDB's error. */
export class CacheIoError extends SnoopyError {
  override name = 'CacheIoError';
  readonly path: string;
  constructor(path: string, what: string, options: SnoopyErrorOptions = {}) {
    const reason = options.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('SNOOPY_CACHE_IO', `Cache ${path}: ${what} failed${reason}`, options);
    this.path = path;
  }
}

/** A synchronous read (`get`, `has`, `getMany`) came before the cache finished opening. */
export class CacheNotOpenError extends SnoopyError {
  override name = 'CacheNotOpenError';
  readonly path: string;
  constructor(path: string) {
    super('SNOOPY_CACHE_NOT_OPEN', `Cache ${path} is still opening: await cache.open() before synchronous reads`);
    this.path = path;
  }
}
