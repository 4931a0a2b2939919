export { Feed, feed, maxPageEnd, type CountOptions, type InsertOptions, type ItemsOptions, type ScanOptions } from './feed.js';
export { levelStore } from './level-store.js';
export { redisStore } from './redis-store.js';
export { postgresStore } from './postgres-store.js';
export { rpcErrors, serveFeed, type FeedServer } from './server.js';
export { feedClient, type CallOptions, type FeedClient } from './client.js';
export {
  feedDefaults,
  resolveFeedOptions,
  serveFeedDefaults,
  type FeedClientOptions,
  type FeedOptions,
  type LevelStoreOptions,
  type PostgresStoreOptions,
  type RedisStoreOptions,
  type ResolvedFeedOptions,
  type ServeFeedOptions,
} from './options.js';
export { FeedEventError, FeedFanOutError, FeedFilterError, FeedRpcError, FeedStoreError } from './errors.js';
export type { FeedStore, NewRecord, StoredRecord } from './store.js';
export type { Cursor, FeedEntry, FeedStats, FilterScalar, Filters } from './types.js';
