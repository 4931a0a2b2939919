export { Cache, type CacheConstructor } from './cache.js';
export {
  cacheDefaults,
  resolveCacheOptions,
  type CacheOptions,
  type KeyRange,
  type NamespaceOptions,
  type RangeOptions,
  type ResolvedCacheOptions,
  type SetOptions,
  type WaitOptions,
} from './options.js';
export { CacheIoError, CacheKeyError, CacheLockedError, CacheNotOpenError, CacheSinkInputError } from './errors.js';
export type {
  BatchOperation,
  CacheEntry,
  CacheKey,
  CacheStats,
  LocalBatchOperation,
  NamespacedBatchOperation,
} from './types.js';
