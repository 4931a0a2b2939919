import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BytesCodec } from '@snoopy/codecs';

describe('BytesCodec', () => {
  const codec = new BytesCodec();

  it('passes bytes through unchanged and without copying (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (value) => {
        const encoded = codec.encode(value);
        expect(Buffer.isBuffer(encoded)).toBe(true);
        expect(encoded.buffer).toBe(value.buffer);
        expect([...codec.decode(encoded)]).toStrictEqual([...value]);
      }),
    );
  });

  it('returns the same Buffer for a Buffer and rejects non-bytes', () => {
    const buffer = Buffer.from('abc');
    expect(codec.encode(buffer)).toBe(buffer);
    expect(codec.decode(buffer)).toBe(buffer);
    expect(() => codec.encode('abc' as unknown as Buffer)).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_ENCODE', codec: 'bytes' }));
  });
});
