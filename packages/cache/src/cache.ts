import {
  AbortError,
  ClosedError,
  OptionsError,
  TimeoutError,
  deliver,
  describeValue,
  flush,
  type Completion,
  type DeferredSink,
  type Flushing,
} from '@snoopy/core';
import type { Codec } from '@snoopy/codecs';
import { CacheIoError, CacheSinkInputError } from './errors.js';
import {
  expectCodec,
  resolveCacheOptions,
  validateTtl,
  validateWaitOptions,
  type CacheOptions,
  type KeyRange,
  type NamespaceOptions,
  type RangeOptions,
  type SetOptions,
  type WaitOptions,
} from './options.js';
import type { BatchOperation, CacheEntry, CacheKey, CacheStats } from './types.js';
import { encodeKey, keyPrefixes, namespacePrefix } from './internal/keys.js';
import { acquireStore, releaseStore } from './internal/registry.js';
import type { Store, Waiter } from './internal/store.js';
import { expiryOf, valueFormat } from './internal/values.js';
import { assertReadable, assertUsable, assertWritable, enqueueSet, expiryFor, label, noValue, type Handle, type State } from './internal/state.js';
import { entriesOf, rangeBounds } from './internal/range.js';

/**
 * A persistent key-value cache on LevelDB (one directory), usable as a snap's sink and source.
 *
 * - Call it as a sink: `cache([key, value])` or `cache(key, value)`. Writes are coalesced into
 *   LevelDB batches; the promise resolves once the write's batch is written.
 * - Read synchronously: `get`, `has`, `getMany` see this process's writes at once, including
 *   writes still waiting in a batch.
 * - Iterate it (`for await (const [key, value] of cache)`) or a range of it (`entries(range)`),
 *   over a consistent snapshot taken after this process's queued writes are written.
 *
 * `new Cache(path)` starts opening the directory; asynchronous methods wait for it, synchronous
 * reads before it is open fail with `SNOOPY_CACHE_NOT_OPEN` (`await cache.open()` first, or use
 * `await Cache.open(path)`). Opening a path another process holds fails with
 * `SNOOPY_CACHE_LOCKED`; opening one path twice in a process shares one store.
 */
export interface Cache<V = unknown, K extends CacheKey = string>
  extends DeferredSink<readonly [K, V]>, Flushing, AsyncIterable<CacheEntry<K, V>>, AsyncDisposable {
  /** Sink call: stores `[key, value]`; resolves once its batch is written. */
  (entry: readonly [K, V]): Promise<void>;
  /** Sink call: stores `value` under `key`; resolves once its batch is written. */
  (key: K, value: V): Promise<void>;

  /** The LevelDB directory (absolute, symlinks resolved). */
  readonly path: string;
  /** The namespace name, `''` for the root keyspace. */
  readonly namespaceName: string;
  /** The codec of this cache's values. */
  readonly codec: Codec<V>;

  /** Resolves once the store is open (rejects with `SNOOPY_CACHE_LOCKED` or `SNOOPY_CACHE_IO`). */
  open(): Promise<this>;

  /** The value of `key`, or `undefined` when it is missing or expired. Synchronous. */
  get(key: K): V | undefined;
  /** Whether `key` has a value that has not expired. Synchronous. */
  has(key: K): boolean;
  /** `get` of each key. Synchronous. */
  getMany(keys: readonly K[]): (V | undefined)[];

  /** Entries in key order (see `CacheKey`) within `range`, over a snapshot. */
  entries(range?: RangeOptions<K>): AsyncGenerator<CacheEntry<K, V>, void, undefined>;
  /** Keys in order within `range`, over a snapshot. */
  keys(range?: RangeOptions<K>): AsyncGenerator<K, void, undefined>;
  /** Values in key order within `range`, over a snapshot. */
  values(range?: RangeOptions<K>): AsyncGenerator<V, void, undefined>;

  /** Stores `value`; visible to reads at once, resolves once written. */
  set(key: K, value: V, options?: SetOptions): Promise<void>;
  /** Removes `key`; visible to reads at once, resolves once written. */
  delete(key: K): Promise<void>;
  /** Removes every key in `range`, after all writes queued before it; visible once it resolves. */
  deleteRange(range: KeyRange<K>): Promise<void>;
  /**
   * Writes every operation atomically, in one LevelDB batch: all or none. An operation with a
   * `namespace` (another Cache of the same store) writes to that namespace.
   */
  batch(operations: readonly BatchOperation<V, K>[]): Promise<void>;

  /**
   * Resolves with the value of `key` as soon as it has one (at once if it has one now).
   * Fails with `SNOOPY_TIMEOUT` after `timeout` ms, `SNOOPY_ABORTED` when `signal` aborts,
   * `SNOOPY_CLOSED` when the cache closes.
   */
  wait(key: K, options?: WaitOptions): Promise<V>;

  /**
   * A cache on its own keyspace of the same store (like a column family). Nested names join with
   * `'/'`: `cache.namespace('a').namespace('b')` is `cache.namespace('a/b')`. Closing the cache it
   * came from closes it.
   */
  namespace<V2 = V, K2 extends CacheKey = K>(name: string, options?: NamespaceOptions<V2>): Cache<V2, K2>;

  /** Removes expired entries now; resolves with how many. */
  sweep(): Promise<number>;
  /** Counters of the store. */
  stats(): CacheStats;
  /** Writes queued writes now; resolves once they are written. */
  flush(): Promise<void>;
  /** Writes queued writes and releases the store. Idempotent. */
  close(): Promise<void>;
}

export interface CacheConstructor {
  new <V = unknown, K extends CacheKey = string>(path: string, options?: CacheOptions<V>): Cache<V, K>;
  /** `new Cache(path, options)` and `await cache.open()`. */
  open<V = unknown, K extends CacheKey = string>(path: string, options?: CacheOptions<V>): Promise<Cache<V, K>>;
  readonly prototype: Cache<unknown, CacheKey>;
}

const kState = Symbol('snoopy.cache.state');

type AnyCache = Cache<unknown, CacheKey>;
type Callable = (a: unknown, b?: unknown) => Promise<void>;

function validateNamespaceName(name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.includes('\x00') || !(name as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new OptionsError(`Expected a namespace name to be a non-empty string without NUL characters, got ${describeValue(name)}`);
  }
  return name;
}

function stateOf(cache: unknown): State | undefined {
  return (cache as { [kState]?: State } | null | undefined)?.[kState];
}

/** Methods of every Cache. A Cache is a function object whose prototype is this class's. */
class CacheMethods {
  declare [kState]: State;

  get path(): string {
    return this[kState].store.path;
  }

  get namespaceName(): string {
    return this[kState].namespace;
  }

  get codec(): Codec<unknown> {
    return this[kState].format.codec;
  }

  async open(): Promise<this> {
    const s = this[kState];
    assertUsable(s);
    await s.store.opened;
    return this;
  }

  get(key: CacheKey): unknown {
    const s = this[kState];
    if (s.closed || s.handle.closed || s.store.status !== 'open') assertReadable(s);
    const encoded = encodeKey(s.prefixes, key);
    const store = s.store;
    let stored: string | undefined;
    if (store.pendingJobs !== 0) {
      stored = store.read(encoded);
    } else {
      try {
        stored = store.db.getSync(encoded);
      } catch (cause) {
        throw new CacheIoError(store.path, 'read', { cause });
      }
    }
    return stored === undefined ? undefined : s.format.decode(stored, s.clock);
  }

  has(key: CacheKey): boolean {
    const s = this[kState];
    assertReadable(s);
    const stored = s.store.read(encodeKey(s.prefixes, key));
    if (stored === undefined) return false;
    const expiresAt = expiryOf(stored);
    return expiresAt === undefined || s.clock() < expiresAt;
  }

  getMany(keys: readonly CacheKey[]): unknown[] {
    if (!Array.isArray(keys)) throw new OptionsError(`Expected an array of keys, got ${describeValue(keys)}`);
    return keys.map((key) => this.get(key));
  }

  entries(range: RangeOptions<CacheKey> = {}): AsyncGenerator<unknown> {
    return entriesOf(this[kState], range, 'entries');
  }

  keys(range: RangeOptions<CacheKey> = {}): AsyncGenerator<unknown> {
    return entriesOf(this[kState], range, 'keys');
  }

  values(range: RangeOptions<CacheKey> = {}): AsyncGenerator<unknown> {
    return entriesOf(this[kState], range, 'values');
  }

  [Symbol.asyncIterator](): AsyncGenerator<unknown> {
    return entriesOf(this[kState], {}, 'entries');
  }

  set(key: CacheKey, value: unknown, options?: SetOptions): Promise<void> {
    try {
      const s = this[kState];
      assertWritable(s);
      if (value === undefined) throw noValue(value);
      const ttl = options === undefined ? undefined : validateTtl(options.ttl);
      const job = enqueueSet(s, key, value, ttl);
      s.store.commit();
      return s.store.promiseOf(job);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  delete(key: CacheKey): Promise<void> {
    try {
      const s = this[kState];
      assertWritable(s);
      const job = s.store.del(encodeKey(s.prefixes, key));
      s.store.commit();
      return s.store.promiseOf(job);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  deleteRange(range: KeyRange<CacheKey>): Promise<void> {
    try {
      const s = this[kState];
      assertWritable(s);
      return s.store.clear(rangeBounds(s, range));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  batch(operations: readonly BatchOperation<unknown, CacheKey>[]): Promise<void> {
    try {
      const s = this[kState];
      assertWritable(s);
      if (!Array.isArray(operations)) throw new OptionsError(`Expected an array of operations, got ${describeValue(operations)}`);
      // Encode everything first: a bad operation fails the batch before anything is queued.
      const prepared: { key: string; stored: string | undefined; expiresAt: number | undefined }[] = [];
      for (const op of operations as readonly BatchOperation<unknown, CacheKey>[]) {
        if (typeof op !== 'object' || op === null) throw new OptionsError(`Expected a batch operation object, got ${describeValue(op)}`);
        const target = op.namespace === undefined ? s : stateOf(op.namespace);
        if (target === undefined || target.store !== s.store) {
          throw new OptionsError(`Expected \`namespace\` to be a Cache on the same directory as ${label(s)}, got ${describeValue(op.namespace)}`);
        }
        assertWritable(target);
        const key = encodeKey(target.prefixes, op.key);
        if (op.type === 'set') {
          if (op.value === undefined) throw noValue(op.value);
          const expiresAt = expiryFor(target, validateTtl(op.ttl));
          prepared.push({ key, stored: target.format.encode(op.value, expiresAt), expiresAt });
        } else if (op.type === 'delete') {
          prepared.push({ key, stored: undefined, expiresAt: undefined });
        } else {
          throw new OptionsError(`Expected a batch operation type 'set' or 'delete', got ${describeValue((op as { type: unknown }).type)}`);
        }
      }
      if (prepared.length === 0) return Promise.resolve();
      const store = s.store;
      let job: ReturnType<Store['put']> | undefined;
      for (const p of prepared) job = p.stored === undefined ? store.del(p.key) : store.put(p.key, p.stored, p.expiresAt);
      store.commit();
      return store.promiseOf(job!);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async wait(key: CacheKey, options: WaitOptions = {}): Promise<unknown> {
    const s = this[kState];
    validateWaitOptions(options);
    assertUsable(s);
    const encoded = encodeKey(s.prefixes, key);
    const { timeout, signal } = options;
    const what = `${label(s)}: wait(${describeValue(key)})`;
    if (signal?.aborted) throw new AbortError(what, signal.reason);
    await s.store.opened;
    assertReadable(s);
    const now = this.get(key);
    if (now !== undefined) return now;
    if (signal?.aborted) throw new AbortError(what, signal.reason);
    return new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        s.store.removeWaiter(waiter);
      };
      const waiter: Waiter = {
        key: encoded,
        owner: s,
        onValue(stored) {
          cleanup();
          try {
            resolve(s.format.decode(stored, s.clock));
          } catch (error) {
            reject(error);
          }
        },
        onClose(error) {
          cleanup();
          reject(error);
        },
      };
      const onAbort = (): void => {
        cleanup();
        reject(new AbortError(what, signal?.reason));
      };
      s.store.addWaiter(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeout !== undefined && timeout !== Infinity) {
        timer = setTimeout(() => {
          cleanup();
          reject(new TimeoutError(what, timeout));
        }, timeout);
      }
    });
  }

  namespace(name: string, options: NamespaceOptions<unknown> = {}): AnyCache {
    const s = this[kState];
    assertUsable(s);
    const full = s.namespace === '' ? validateNamespaceName(name) : `${s.namespace}/${validateNamespaceName(name)}`;
    if (typeof options !== 'object' || options === null) throw new OptionsError(`Expected namespace options to be an object, got ${describeValue(options)}`);
    const codec = options.codec === undefined ? s.format.codec : expectCodec<unknown>('codec', options.codec);
    return createCache(Object.getPrototypeOf(this) as object, s.handle, false, full, codec, s.clock);
  }

  sweep(): Promise<number> {
    try {
      assertWritable(this[kState]);
      return this[kState].store.sweep();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  stats(): CacheStats {
    return this[kState].store.stats();
  }

  flush(): Promise<void> {
    try {
      assertWritable(this[kState]);
      return this[kState].store.flush();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  [flush](): Promise<void> {
    return this.flush();
  }

  [deliver](value: unknown, completion: Completion): void | Promise<void> {
    const s = this[kState];
    if (!Array.isArray(value) || value.length !== 2 || value[1] === undefined) throw new CacheSinkInputError(value);
    assertWritable(s);
    const store = s.store;
    const job = enqueueSet(s, value[0], value[1], undefined);
    job.completions.push(completion);
    store.commit();
    if (store.congested) return store.drained();
  }

  close(): Promise<void> {
    const s = this[kState];
    return (s.closing ??= closeState(s));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

async function closeState(s: State): Promise<void> {
  s.closed = true;
  const error = new ClosedError(label(s));
  if (!s.owner) {
    s.store.closeWaiters(error, (owner) => owner === s);
    if (s.store.status === 'open' && !s.handle.closed) await s.store.flush();
    return;
  }
  s.handle.closed = true;
  s.store.closeWaiters(error, (owner) => (owner as State).handle === s.handle);
  await releaseStore(s.store);
}

// A Cache is callable and has Function.prototype's methods (call, apply, bind).
Object.setPrototypeOf(CacheMethods.prototype, Function.prototype);

function sinkCall(s: State, a: unknown, b: unknown, argc: number): Promise<void> {
  try {
    let key: unknown;
    let value: unknown;
    if (argc === 1) {
      if (!Array.isArray(a) || a.length !== 2) throw new CacheSinkInputError(a);
      key = a[0];
      value = a[1];
    } else if (argc === 2) {
      key = a;
      value = b;
    } else {
      throw new CacheSinkInputError(argc === 0 ? undefined : a);
    }
    if (value === undefined) throw new CacheSinkInputError(argc === 1 ? a : [key, value]);
    assertWritable(s);
    const job = enqueueSet(s, key, value, undefined);
    s.store.commit();
    return s.store.promiseOf(job);
  } catch (error) {
    return Promise.reject(error);
  }
}

function createCache(proto: object, handle: Handle, owner: boolean, namespace: string, codec: Codec<unknown>, clock: () => number): AnyCache {
  const prefixBytes = Buffer.from(namespacePrefix(namespace), 'utf8');
  const endBytes = Buffer.from(prefixBytes);
  endBytes[endBytes.length - 1] = 0x01;
  const state: State = {
    handle,
    store: handle.store,
    owner,
    namespace,
    prefixes: keyPrefixes(namespace),
    prefixBytes,
    endBytes,
    format: valueFormat(codec),
    clock,
    closed: false,
    closing: undefined,
  };
  // A method, so that the function has no `prototype` of its own and `arguments` is available.
  const cache = {
    cache(a: unknown, b?: unknown): Promise<void> {
      return sinkCall(state, a, b, arguments.length);
    },
  }.cache as Callable;
  Object.setPrototypeOf(cache, proto);
  Object.defineProperty(cache, kState, { value: state });
  // A cache is callable (a sink), so it has a function's `length` (its arity, 2): core would
  // read that as a count of items when the cache is a source. It holds no such count.
  Object.defineProperty(cache, 'length', { value: undefined, configurable: true });
  return cache as unknown as AnyCache;
}

function CacheConstructorImpl(this: unknown, path: string, options?: CacheOptions<unknown>): AnyCache {
  if (new.target === undefined) throw new TypeError("Class constructor Cache cannot be invoked without 'new'");
  if (typeof path !== 'string' || path === '') throw new OptionsError(`Expected \`path\` to be a non-empty string, got ${describeValue(path)}`);
  const resolved = resolveCacheOptions(options, path);
  const store = acquireStore(path, resolved, options ?? {});
  const handle: Handle = { store, closed: false };
  return createCache((new.target as { prototype: object }).prototype, handle, true, '', resolved.codec, store.options.clock);
}

CacheConstructorImpl.prototype = CacheMethods.prototype;
Object.defineProperty(CacheMethods.prototype, 'constructor', { value: CacheConstructorImpl, writable: true, configurable: true });

async function openCache(path: string, options?: CacheOptions<unknown>): Promise<AnyCache> {
  const cache = new (CacheConstructorImpl as unknown as CacheConstructor)(path, options);
  try {
    await cache.open();
  } catch (error) {
    await cache.close().catch(() => {});
    throw error;
  }
  return cache as AnyCache;
}

Object.defineProperty(CacheConstructorImpl, 'open', { value: openCache, writable: true, configurable: true });
Object.defineProperty(CacheConstructorImpl, 'name', { value: 'Cache' });

export const Cache = CacheConstructorImpl as unknown as CacheConstructor;
