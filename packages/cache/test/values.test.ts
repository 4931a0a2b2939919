import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JsonCodec, type Codec } from '@snoopy/codecs';
import { valueFormat } from '../src/internal/values.js';

const never = (): number => {
  throw new Error('clock read for a value without TTL');
};

describe('stored value format', () => {
  const json = new JsonCodec();
  const fast = valueFormat(json);
  // The same codec through the generic bytes path: an object without the text pair.
  const viaBytes = valueFormat<unknown>({ name: 'json', encode: (v) => json.encode(v), decode: (b) => json.decode(b) });

  it('stores a codec with the text pair (JsonCodec) exactly as the bytes path does, and decodes it the same', () => {
    expect(fast.constructor).not.toBe(viaBytes.constructor);
    const values = fc.oneof(fc.jsonValue(), fc.constantFrom('\uD800x', '\uDFFF', 'é\u{1F600}', -0, [undefined], { a: undefined }));
    fc.assert(
      fc.property(values, fc.option(fc.integer({ min: 0, max: 999_999_999_999_999 }), { nil: undefined }), (value, expiresAt) => {
        const stored = fast.encode(value, expiresAt);
        expect(stored).toBe(viaBytes.encode(value, expiresAt));
        const now = (): number => -1;
        const expected = json.decode(json.encode(value));
        expect(fast.decode(stored, expiresAt === undefined ? never : now)).toEqual(expected);
        expect(viaBytes.decode(stored, expiresAt === undefined ? never : now)).toEqual(expected);
      }),
    );
  });

  it('keeps the codec’s own errors on the fast path', () => {
    expect(() => fast.encode(() => 1, undefined)).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_ENCODE' }));
    expect(() => fast.encode(1n, undefined)).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_ENCODE' }));
    expect(() => fast.decode('0{not json', never)).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_DECODE' }));
  });

  it('uses the text pair of any codec that has one, and the bytes path for text that is not well-formed', () => {
    const calls: string[] = [];
    const upper: Codec<string> = {
      name: 'upper',
      encode: (v) => Buffer.from(v.toUpperCase(), 'utf8'),
      decode: (b) => Buffer.from(b).toString('utf8').toLowerCase(),
      encodeText: (v) => (calls.push('encodeText'), v.toUpperCase()),
      decodeText: (t) => (calls.push('decodeText'), t.toLowerCase()),
    };
    const format = valueFormat(upper);
    const stored = format.encode('abc', undefined);
    expect(stored).toBe('0ABC');
    expect(format.decode(stored, never)).toBe('abc');
    expect(calls).toEqual(['encodeText', 'decodeText']);
    const lone = format.encode('\uD800', undefined);
    expect(lone).not.toBe('0\uD800');
    expect(Buffer.from(lone, 'utf8').toString('utf8')).toBe(lone);
  });

  it('hides a value once its expiry is reached', () => {
    const stored = fast.encode({ a: 1 }, 1000);
    expect(fast.decode(stored, () => 999)).toEqual({ a: 1 });
    expect(fast.decode(stored, () => 1000)).toBeUndefined();
  });

  it('round-trips any bytes through a binary codec (property)', () => {
    const bytes: Codec<Buffer> = { name: 'bytes', encode: (b) => b, decode: (b) => Buffer.from(b) };
    const format = valueFormat(bytes);
    fc.assert(
      fc.property(fc.uint8Array(), (u8) => {
        const value = Buffer.from(u8);
        const stored = format.encode(value, undefined);
        expect(Buffer.from(stored, 'utf8').toString('utf8')).toBe(stored); // valid UTF-8
        expect(format.decode(stored, never)).toEqual(value);
        expect(format.decode(format.encode(value, 5), () => 4)).toEqual(value);
      }),
    );
  });
});
