import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeKey, decodeNumber, encodeKey, encodeNumber, keyPrefixes } from '../src/internal/keys.js';
import { CacheKeyError } from '../src/index.js';

const root = keyPrefixes('');
const bytes = (key: unknown): Buffer => Buffer.from(encodeKey(root, key), 'utf8');

describe('key encoding', () => {
  it('orders numbers numerically, negatives and floats included', () => {
    const numbers = [-Infinity, -1e300, -123.5, -1, -Number.MIN_VALUE, 0, Number.MIN_VALUE, 0.5, 1, 2, 10, 123.25, 1e300, Infinity];
    const sorted = [...numbers].reverse().map(bytes).sort(Buffer.compare);
    expect(sorted.map((b) => decodeKey(b, root.string.length - 1))).toEqual(numbers);
  });

  it('round-trips any number and keeps order (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.double({ noNaN: true }), (a, b) => {
        expect(decodeNumber(encodeNumber(a))).toBe(a === 0 ? 0 : a);
        const c = Buffer.compare(bytes(a), bytes(b));
        expect(Math.sign(c)).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });

  it('keeps 123 and "123" apart, numbers before strings before Buffers', () => {
    expect(encodeKey(root, 123)).not.toBe(encodeKey(root, '123'));
    expect(Buffer.compare(bytes(1e300), bytes(''))).toBe(-1);
    expect(Buffer.compare(bytes('\u{10FFFF}'), bytes(Buffer.alloc(0)))).toBe(-1);
  });

  it('orders strings by UTF-8 bytes and Buffers bytewise (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(Buffer.compare(bytes(a), bytes(b)))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
        expect(decodeKey(bytes(a), root.string.length - 1)).toBe(a);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        expect(Math.sign(Buffer.compare(bytes(a), bytes(b)))).toBe(Math.sign(Buffer.compare(a, b)));
        expect(decodeKey(bytes(a), root.string.length - 1)).toEqual(Buffer.from(a));
      }),
    );
  });

  it('rejects what is not a key with SNOOPY_CACHE_KEY', () => {
    for (const bad of [NaN, null, undefined, {}, [], true, 1n, '\uD800']) {
      expect(() => encodeKey(root, bad)).toThrow(CacheKeyError);
      try {
        encodeKey(root, bad);
      } catch (error) {
        expect((error as CacheKeyError).code).toBe('SNOOPY_CACHE_KEY');
      }
    }
  });
});
