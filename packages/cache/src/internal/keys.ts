/**
 * Order-preserving key encoding. A stored key is a string (LevelDB sees its UTF-8 bytes):
 *
 *   '\x00' + namespace + '\x00' + tag + payload
 *
 * tag '\x01' number: 16 hex digits of the IEEE-754 bits, sign-flipped so bytes sort numerically;
 * tag '\x02' string: the string itself (UTF-8 byte order is code point order);
 * tag '\x03' Buffer: one char per byte (latin1), which UTF-8 maps monotonically and prefix-free.
 *
 * Keys starting with '\x01' hold the cache's own bookkeeping (the TTL index).
 */
import { CacheKeyError } from '../errors.js';
import type { CacheKey } from '../types.js';

export const TAG_NUMBER = '\x01';
export const TAG_STRING = '\x02';
export const TAG_BUFFER = '\x03';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Little or big endian host: find which half holds the sign.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

function hex8(n: number): string {
  const s = n.toString(16);
  return s.length === 8 ? s : '00000000'.slice(s.length) + s;
}

export function encodeNumber(n: number): string {
  f64[0] = n === 0 ? 0 : n; // -0 is 0
  let hi = u32[HI]!;
  let lo = u32[LO]!;
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else {
    hi = (hi | 0x80000000) >>> 0;
  }
  return hex8(hi) + hex8(lo);
}

export function decodeNumber(hex: string): number {
  let hi = parseInt(hex.slice(0, 8), 16);
  let lo = parseInt(hex.slice(8, 16), 16);
  if (hi & 0x80000000) {
    hi = (hi & 0x7fffffff) >>> 0;
  } else {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  }
  u32[HI] = hi;
  u32[LO] = lo;
  return f64[0]!;
}

interface WellFormed {
  isWellFormed(): boolean;
}

/** Validates a namespace name; returns the stored prefix of its keys. */
export function namespacePrefix(name: string): string {
  return '\x00' + name + '\x00';
}

/** The stored prefixes of one namespace's keys, one per key type. */
export interface KeyPrefixes {
  readonly number: string;
  readonly string: string;
  readonly buffer: string;
}

export function keyPrefixes(namespace: string): KeyPrefixes {
  const prefix = namespacePrefix(namespace);
  return { number: prefix + TAG_NUMBER, string: prefix + TAG_STRING, buffer: prefix + TAG_BUFFER };
}

/** Encodes a user key with a namespace's prefixes. Throws `CacheKeyError`. */
export function encodeKey(prefixes: KeyPrefixes, key: unknown): string {
  if (typeof key === 'string') {
    if (!(key as unknown as WellFormed).isWellFormed()) throw new CacheKeyError(key, 'a well-formed string (no lone surrogates)');
    return prefixes.string + key;
  }
  if (typeof key === 'number') {
    if (key !== key) throw new CacheKeyError(key);
    return prefixes.number + encodeNumber(key);
  }
  if (key instanceof Uint8Array) {
    return prefixes.buffer + Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  }
  throw new CacheKeyError(key);
}

/** Decodes a stored key given as bytes, `prefixBytes` being the byte length of its namespace prefix. */
export function decodeKey(stored: Buffer, prefixBytes: number): CacheKey {
  const tag = stored[prefixBytes];
  const start = prefixBytes + 1;
  if (tag === 2) return stored.toString('utf8', start);
  if (tag === 1) return decodeNumber(stored.toString('latin1', start));
  if (tag === 3) return Buffer.from(stored.toString('utf8', start), 'latin1');
  throw new Error(`Unknown key tag ${String(tag)}`);
}

/** One past every stored key that starts with `bytes` (no UTF-8 byte is 0xff). */
export function afterPrefix(bytes: Buffer): Buffer {
  return Buffer.concat([bytes, Buffer.of(0xff)]);
}
