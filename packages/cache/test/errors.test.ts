import { describe, expect, it } from 'vitest';
import { SnoopyError, errorCodes } from '@snoopy/core';
import { CacheIoError, CacheKeyError, CacheLockedError, CacheNotOpenError, CacheSinkInputError } from '../src/index.js';

describe('cache errors', () => {
  const cases: [SnoopyError, string][] = [
    [new CacheLockedError('/tmp/x'), 'SNOOPY_CACHE_LOCKED'],
    [new CacheSinkInputError(5), 'SNOOPY_CACHE_SINK_INPUT'],
    [new CacheKeyError(NaN), 'SNOOPY_CACHE_KEY'],
    [new CacheIoError('/tmp/x', 'read', { cause: new Error('disk') }), 'SNOOPY_CACHE_IO'],
    [new CacheNotOpenError('/tmp/x'), 'SNOOPY_CACHE_NOT_OPEN'],
  ];

  it.each(cases)('%s has its code from the table and its retriable flag', (error, code) => {
    expect(error).toBeInstanceOf(SnoopyError);
    expect(error.code).toBe(code);
    expect(code in errorCodes).toBe(true);
    expect(error.retriable).toBe(errorCodes[code as keyof typeof errorCodes].retriable);
    expect(error.name).toBe(error.constructor.name);
  });

  it('says what was expected and what was got', () => {
    expect(new CacheSinkInputError(5).message).toBe('Expected a [key, value] tuple for the cache sink, got `5` (number)');
    expect(new CacheKeyError({}).message).toBe('Expected a cache key to be a string, a number (not NaN) or a Buffer, got `{}` (object)');
    expect(new CacheLockedError('/data/c').message).toContain('/data/c');
    expect(new CacheIoError('/data/c', 'read', { cause: new Error('disk') }).message).toBe('Cache /data/c: read failed: disk');
  });
});
