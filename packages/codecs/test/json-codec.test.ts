import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError, JsonCodec } from '@snoopy/codecs';

describe('JsonCodec', () => {
  const codec = new JsonCodec();

  it('round-trips any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const bytes = codec.encode(value);
        expect(Buffer.isBuffer(bytes)).toBe(true);
        expect(codec.decode(bytes)).toStrictEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('round-trips any unicode string through UTF-8 (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const bytes = codec.encode(value);
        expect(bytes.equals(Buffer.from(JSON.stringify(value), 'utf8'))).toBe(true);
        expect(codec.decode(bytes)).toBe(value);
      }),
    );
  });

  it('has a text pair that agrees with encode and decode (property), with the same errors', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = codec.encodeText(value);
        expect(codec.encode(value)).toEqual(Buffer.from(text, 'utf8'));
        expect(codec.decodeText(text)).toEqual(codec.decode(codec.encode(value)));
      }),
    );
    expect(() => codec.decodeText('{"broken')).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_DECODE' }));
    expect(() => codec.encodeText(1n as never)).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_ENCODE' }));
  });

  it('decodes a Uint8Array that is a view into a larger buffer', () => {
    const backing = new TextEncoder().encode('xx{"a":[1,2]}yy');
    expect(codec.decode(backing.subarray(2, backing.length - 2))).toStrictEqual({ a: [1, 2] });
  });

  it('throws SNOOPY_CODEC_DECODE with a truncated preview of the bytes for invalid JSON', () => {
    const bytes = Buffer.from(`{"unterminated": "${'x'.repeat(100)}`);
    let error: unknown;
    try {
      codec.decode(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect(error).toMatchObject({ code: 'SNOOPY_CODEC_DECODE', codec: 'json', retriable: false });
    const message = (error as Error).message;
    expect(message).toContain('{\\"unterminated\\": \\"xxx');
    expect(message).toContain('(118 bytes)');
    expect(message.length).toBeLessThan(200);
  });

  it('throws SNOOPY_CODEC_DECODE for empty, truncated and garbage input', () => {
    const good = codec.encode({ id: 1, tags: ['a', 'b'] });
    const inputs: Buffer[] = [Buffer.alloc(0), Buffer.from([0xff, 0x00, 0x13]), Buffer.from('not json')];
    for (let end = 1; end < good.length; end++) {
      const prefix = good.subarray(0, end);
      // Some prefixes of a JSON text are JSON texts themselves ("{" is not, "1" would be).
      if (isJson(prefix)) continue;
      inputs.push(prefix);
    }
    for (const bytes of inputs) {
      expect(() => codec.decode(bytes), bytes.toString('hex')).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_DECODE' }));
    }
  });

  it('rejects invalid UTF-8 instead of decoding replacement characters', () => {
    const bytes = Buffer.concat([Buffer.from('"ab'), Buffer.from([0xc3]), Buffer.from('"')]);
    expect(() => codec.decode(bytes)).toThrow(CodecError);
    expect(() => codec.decode(bytes)).toThrow(/invalid UTF-8/);
    expect(codec.decode(Buffer.from('"a\uFFFDb"'))).toBe('a\uFFFDb');
  });

  it('only ever throws CodecError for random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const value = codec.decode(bytes);
          expect(codec.decode(codec.encode(value))).toStrictEqual(value);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
        }
      }),
    );
  });

  it('throws SNOOPY_CODEC_ENCODE naming the value for what JSON cannot hold', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => codec.encode(undefined)).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_ENCODE' }));
    expect(() => codec.encode(undefined)).toThrow(/`undefined` \(undefined\)/);
    expect(() => codec.encode(10n)).toThrow(/`10n` \(bigint\)/);
    expect(() => codec.encode(cycle)).toThrow(CodecError);
    expect(() => codec.encode(() => 1)).toThrow(/function/);
  });
});

function isJson(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString());
    return true;
  } catch {
    return false;
  }
}
