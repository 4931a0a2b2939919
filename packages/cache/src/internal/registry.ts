/**
 * Process-wide table of open stores, keyed by real directory path. LevelDB allows one open per
 * directory, and classic-level releases its file lock when a second open in the same process
 * fails, so a second `new Cache(path)` must share the first store instead of opening again. The
 * table lives on `globalThis` so that two copies of this package in one process share it too.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OptionsError, rootLogger } from '@snoopy/core';
import { Store, type StoreOptions } from './store.js';
import { storeOptionNames, type CacheOptions } from '../options.js';

interface Registry {
  readonly stores: Map<string, Store>;
  /** Close promises of stores that are closing, so that a reopen waits for them. */
  readonly closing: Map<string, Promise<void>>;
}

const registryKey = Symbol.for('snoopy.cache.registry');
const holder = globalThis as { [registryKey]?: Registry };
const registry: Registry = (holder[registryKey] ??= { stores: new Map(), closing: new Map() });

/** Absolute path with symlinks resolved as far as the path exists. */
export function canonicalPath(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(canonicalPath(parent), basename(absolute));
  }
}

/** Returns the store of `path`, opening it if needed; the caller owns one reference. */
export function acquireStore(path: string, resolved: StoreOptions, given: CacheOptions<unknown>): Store {
  const key = canonicalPath(path);
  let store = registry.stores.get(key);
  if (store !== undefined && store.status !== 'failed' && store.status !== 'closed' && store.closing === undefined) {
    for (const name of storeOptionNames) {
      if (given[name] !== undefined && given[name] !== store.options[name]) {
        throw new OptionsError(
          `Cache ${key} is already open in this process with \`${name}\` = ${String(store.options[name])}; got ${String(given[name])}. ` +
            'Open it with the same store options, or omit them.',
        );
      }
    }
    store.refs++;
    return store;
  }
  const logger = rootLogger().child({ component: 'cache', path: key });
  store = new Store(key, resolved, logger, registry.closing.get(key));
  store.refs = 1;
  registry.stores.set(key, store);
  const opened = store;
  store.opened.catch(() => {
    if (registry.stores.get(key) === opened) registry.stores.delete(key);
  });
  return store;
}

/** Drops one reference; the last one closes the store. */
export function releaseStore(store: Store): Promise<void> {
  store.refs--;
  if (store.refs > 0) return store.flush();
  const key = store.path;
  if (registry.stores.get(key) === store) registry.stores.delete(key);
  const closing = (store.closing ??= store.close().finally(() => {
    if (registry.closing.get(key) === closing) registry.closing.delete(key);
  }));
  registry.closing.set(key, closing);
  return closing;
}
