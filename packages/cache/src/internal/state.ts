/** The state behind one Cache object (a namespace view on a shared store). */
import { ClosedError, OptionsError, describeValue } from '@snoopy/core';
import { CacheNotOpenError } from '../errors.js';
import { encodeKey, type KeyPrefixes } from './keys.js';
import type { Store } from './store.js';
import { MAX_EXPIRY, type ValueFormat } from './values.js';

/** What one `new Cache()` owns: a reference to the store. Shared by its namespaces. */
export interface Handle {
  readonly store: Store;
  closed: boolean;
}

export interface State {
  readonly handle: Handle;
  readonly store: Store;
  readonly owner: boolean;
  readonly namespace: string;
  readonly prefixes: KeyPrefixes;
  readonly prefixBytes: Buffer;
  readonly endBytes: Buffer;
  readonly format: ValueFormat<unknown>;
  readonly clock: () => number;
  closed: boolean;
  closing: Promise<void> | undefined;
}

export function label(s: State): string {
  return s.namespace === '' ? `Cache ${s.store.path}` : `Cache ${s.store.path} namespace ${JSON.stringify(s.namespace)}`;
}

export function assertUsable(s: State): void {
  if (s.closed || s.handle.closed) throw new ClosedError(label(s));
}

export function assertWritable(s: State): void {
  assertUsable(s);
  if (s.store.status === 'failed') throw s.store.openError;
  if (s.store.status === 'closed') throw new ClosedError(label(s));
}

export function assertReadable(s: State): void {
  assertWritable(s);
  if (s.store.status === 'opening') throw new CacheNotOpenError(s.store.path);
}

export function expiryFor(s: State, ttl: number | undefined): number | undefined {
  if (ttl === undefined) return undefined;
  const expiresAt = Math.ceil(s.clock() + ttl);
  if (!(expiresAt <= MAX_EXPIRY)) throw new OptionsError(`Expected \`ttl\` to end before year 33000, got ${describeValue(ttl)}`);
  return expiresAt;
}

/** Queues a put (visible to reads at once); returns its batch. */
export function enqueueSet(s: State, key: unknown, value: unknown, ttl: number | undefined): ReturnType<Store['put']> {
  const encoded = encodeKey(s.prefixes, key);
  const expiresAt = expiryFor(s, ttl);
  return s.store.put(encoded, s.format.encode(value, expiresAt), expiresAt);
}

export function noValue(value: unknown): OptionsError {
  return new OptionsError(`Expected a value to store, got ${describeValue(value)}; use delete() to remove a key`);
}

