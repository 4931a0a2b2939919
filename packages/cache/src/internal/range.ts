/** Key ranges: bounds in stored-key bytes, and iteration over a snapshot. */
import { OptionsError, describeValue } from '@snoopy/core';
import { CacheIoError } from '../errors.js';
import { validateLimit, type KeyRange, type RangeOptions } from '../options.js';
import type { CacheKey } from '../types.js';
import { afterPrefix, decodeKey, encodeKey } from './keys.js';
import { assertWritable, type State } from './state.js';
import { expiryOf } from './values.js';

interface Bound {
  bytes: Buffer;
  inclusive: boolean;
}

export function rangeBounds(s: State, range: KeyRange<CacheKey>): Record<string, Buffer> {
  if (typeof range !== 'object' || range === null) throw new OptionsError(`Expected a range object, got ${describeValue(range)}`);
  let lower: Bound = { bytes: s.prefixBytes, inclusive: true };
  let upper: Bound = { bytes: s.endBytes, inclusive: false };
  const raiseLower = (bytes: Buffer, inclusive: boolean): void => {
    const c = Buffer.compare(bytes, lower.bytes);
    if (c > 0 || (c === 0 && !inclusive)) lower = { bytes, inclusive };
  };
  const lowerUpper = (bytes: Buffer, inclusive: boolean): void => {
    const c = Buffer.compare(bytes, upper.bytes);
    if (c < 0 || (c === 0 && !inclusive)) upper = { bytes, inclusive };
  };
  const bytesOf = (key: unknown): Buffer => Buffer.from(encodeKey(s.prefixes, key), 'utf8');
  if (range.gte !== undefined) raiseLower(bytesOf(range.gte), true);
  if (range.gt !== undefined) raiseLower(bytesOf(range.gt), false);
  if (range.lte !== undefined) lowerUpper(bytesOf(range.lte), true);
  if (range.lt !== undefined) lowerUpper(bytesOf(range.lt), false);
  if (range.prefix !== undefined) {
    if (typeof range.prefix !== 'string' && !(range.prefix instanceof Uint8Array)) {
      throw new OptionsError(`Expected \`prefix\` to be a string or a Buffer, got ${describeValue(range.prefix)}`);
    }
    const start = bytesOf(range.prefix);
    raiseLower(start, true);
    lowerUpper(afterPrefix(start), false);
  }
  return { [lower.inclusive ? 'gte' : 'gt']: lower.bytes, [upper.inclusive ? 'lte' : 'lt']: upper.bytes };
}

export type Mode = 'entries' | 'keys' | 'values';

async function* iterate(s: State, bounds: Record<string, Buffer>, reverse: boolean, limit: number, mode: Mode): AsyncGenerator<unknown> {
  assertWritable(s);
  await s.store.opened;
  assertWritable(s);
  // Own queued writes first, so that the snapshot holds them.
  await s.store.flush();
  if (limit === 0) return;
  const iterator = s.store.db.iterator({ ...bounds, reverse, keyEncoding: 'buffer' } as never) as unknown as {
    nextv(size: number): Promise<[Buffer, string][]>;
    close(): Promise<void>;
  };
  const prefixLength = s.prefixBytes.length;
  let yielded = 0;
  try {
    for (;;) {
      let entries: [Buffer, string][];
      try {
        entries = await iterator.nextv(256);
      } catch (cause) {
        throw new CacheIoError(s.store.path, 'iteration', { cause });
      }
      if (entries.length === 0) return;
      for (const [storedKey, storedValue] of entries) {
        if (mode === 'keys') {
          const expiresAt = expiryOf(storedValue);
          if (expiresAt !== undefined && s.clock() >= expiresAt) continue;
          yield decodeKey(storedKey, prefixLength);
        } else {
          const value = s.format.decode(storedValue, s.clock);
          if (value === undefined) continue;
          yield mode === 'values' ? value : [decodeKey(storedKey, prefixLength), value];
        }
        if (++yielded >= limit) return;
      }
    }
  } finally {
    await iterator.close();
  }
}

export function entriesOf(s: State, range: RangeOptions<CacheKey>, mode: Mode): AsyncGenerator<unknown> {
  const bounds = rangeBounds(s, range);
  if (range.reverse !== undefined && typeof range.reverse !== 'boolean') {
    throw new OptionsError(`Expected \`reverse\` to be a boolean, got ${describeValue(range.reverse)}`);
  }
  return iterate(s, bounds, range.reverse === true, validateLimit(range.limit), mode);
}

