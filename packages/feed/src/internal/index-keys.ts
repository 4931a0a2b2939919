/**
 * Index names. An event is indexed under every non-empty combination of the configured keys it
 * has, and under the all-events index. A name is the JSON array of the combination's
 * `[key, value, key, value...]` in the configured key order, values normalised to strings, so
 * that no two combinations share a name (`{kind: 'user-friend-291'}` is
 * `["kind","user-friend-291"]`, `{kind: 'friend', user: 291}` is `["kind","friend","user","291"]`).
 */
import { describeValue } from '@snoopy/core';
import { FeedEventError, FeedFanOutError, FeedFilterError } from '../errors.js';
import type { Filters } from '../types.js';

/** The index every event is in. */
export const ALL_INDEX = '[]';

/**
 * The one string form of an indexed value: strings as they are, finite numbers, bigints and
 * booleans as `String(value)` (so `291`, `291n` and `'291'` are one value, and `-0` is `'0'`).
 * `undefined`, `null` and `''` mean "no value". Anything else is refused.
 */
export function normalizeValue(value: unknown): string | undefined | null {
  switch (typeof value) {
    case 'string':
      return value === '' ? undefined : value;
    case 'number':
      return Number.isFinite(value) ? String(value === 0 ? 0 : value) : null;
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'undefined':
      return undefined;
    default:
      return value === null ? undefined : null;
  }
}

function valuesOfField(key: string, value: unknown): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  const out: string[] = [];
  for (const element of list) {
    const v = normalizeValue(element);
    if (v === null) {
      throw new FeedEventError(`Expected the indexed field \`${key}\` to be a string, a finite number, a bigint, a boolean or a list of them, got ${describeValue(value)}`);
    }
    if (v !== undefined && !out.includes(v)) out.push(v);
  }
  return out;
}

/** Every index `event` belongs to, the all-events index first. */
export function indexesOf(event: unknown, keys: readonly string[], maxFanOut: number): string[] {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new FeedEventError(`Expected an event to be an object, got ${describeValue(event)}`);
  }
  const present: { key: string; values: string[] }[] = [];
  let total = 1;
  for (const key of keys) {
    // Own fields only: a key named `constructor` or `toString` is not the prototype's.
    const values = valuesOfField(key, Object.hasOwn(event, key) ? (event as Record<string, unknown>)[key] : undefined);
    if (values.length > 0) {
      present.push({ key, values });
      total *= values.length + 1;
    }
  }
  if (total - 1 > maxFanOut) throw new FeedFanOutError('event', total - 1, maxFanOut);
  const out = [ALL_INDEX];
  // Each combination: for every present key, skip it or take one of its values.
  const walk = (i: number, parts: string[]): void => {
    if (i === present.length) {
      if (parts.length > 0) out.push(JSON.stringify(parts));
      return;
    }
    walk(i + 1, parts);
    const { key, values } = present[i]!;
    for (const v of values) walk(i + 1, [...parts, key, v]);
  };
  walk(0, []);
  return out;
}

/**
 * The indexes whose union is what `filters` match: one per combination of the ORed values.
 * `[]` when a list is empty (nothing matches).
 */
export function indexesOfFilters(filters: Filters | undefined, keys: readonly string[], maxFanOut: number): string[] {
  if (filters === undefined) return [ALL_INDEX];
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) {
    throw new FeedFilterError('', `Expected filters to be an object of key: value or key: [values], got ${describeValue(filters)}`);
  }
  const chosen: { key: string; values: string[] }[] = [];
  for (const key of Object.keys(filters)) {
    if (!keys.includes(key)) {
      throw new FeedFilterError(key, `Cannot filter on \`${key}\`: the feed indexes ${keys.map((k) => `\`${k}\``).join(', ')}`);
    }
  }
  let total = 1;
  for (const key of keys) {
    if (!Object.hasOwn(filters, key)) continue;
    const raw = filters[key];
    if (raw === undefined) continue;
    const list = Array.isArray(raw) ? (raw as unknown[]) : [raw];
    const values: string[] = [];
    for (const element of list) {
      const v = normalizeValue(element);
      if (v === null || v === undefined) {
        throw new FeedFilterError(key, `Expected the filter on \`${key}\` to be a non-empty string, a finite number, a bigint, a boolean or a list of them, got ${describeValue(raw)}`);
      }
      if (!values.includes(v)) values.push(v);
    }
    if (values.length === 0) return [];
    chosen.push({ key, values });
    total *= values.length;
  }
  if (total > maxFanOut) throw new FeedFanOutError('query', total, maxFanOut);
  if (chosen.length === 0) return [ALL_INDEX];
  const out: string[] = [];
  const walk = (i: number, parts: string[]): void => {
    if (i === chosen.length) {
      out.push(JSON.stringify(parts));
      return;
    }
    const { key, values } = chosen[i]!;
    for (const v of values) walk(i + 1, [...parts, key, v]);
  };
  walk(0, []);
  return out;
}
