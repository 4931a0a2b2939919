import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError, StringCodec } from '@snoopy/codecs';

describe('StringCodec', () => {
  const codec = new StringCodec();

  it('round-trips any string as UTF-8 (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const bytes = codec.encode(value);
        expect(bytes.equals(Buffer.from(value, 'utf8'))).toBe(true);
        expect(codec.decode(bytes)).toBe(value);
      }),
    );
  });

  it('keeps a real U+FFFD but rejects bytes that would be replaced by one', () => {
    expect(codec.decode(Buffer.from('a\uFFFDb'))).toBe('a\uFFFDb');
    expect(() => codec.decode(Buffer.from([0x61, 0xef, 0xbf]))).toThrow(CodecError);
  });

  it('decodes empty bytes to the empty string', () => {
    expect(codec.decode(new Uint8Array(0))).toBe('');
  });

  it('rejects invalid UTF-8 and non-strings with CodecError', () => {
    expect(() => codec.decode(Buffer.from([0x61, 0xff]))).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_DECODE', codec: 'string' }));
    expect(() => codec.decode(Buffer.from([0xe2, 0x82]))).toThrow(/invalid UTF-8 <e2 82> \(2 bytes\)/);
    expect(() => codec.encode(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_ENCODE' }));
    expect(() => codec.decode('text' as unknown as Buffer)).toThrow(CodecError);
  });
});
