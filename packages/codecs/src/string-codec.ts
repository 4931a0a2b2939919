import { isUtf8 } from 'node:buffer';
import { describeValue } from '@snoopy/core';
import type { Codec } from './codec.js';
import { CodecError, previewBytes } from './errors.js';
import { asBuffer } from './internal/bytes.js';

/**
 * A string as UTF-8 bytes (the usual codec of message keys). Encoding anything but a string, or
 * decoding bytes that are not valid UTF-8, is a `CodecError`. Empty bytes are the empty string.
 */
export class StringCodec implements Codec<string> {
  readonly name = 'string';

  encode(value: string): Buffer {
    if (typeof value !== 'string') {
      throw new CodecError('SNOOPY_CODEC_ENCODE', this.name, `expected a string, got ${describeValue(value)}`);
    }
    return Buffer.from(value); // UTF-8, Node's fast path (see JsonCodec)
  }

  decode(bytes: Buffer | Uint8Array): string {
    const buffer = asBuffer(this.name, bytes);
    const text = buffer.toString();
    // Invalid UTF-8 becomes U+FFFD in toString; only then is the full check needed.
    if (text.includes('\uFFFD') && !isUtf8(buffer)) {
      throw new CodecError('SNOOPY_CODEC_DECODE', this.name, `invalid UTF-8 ${previewBytes(buffer)}`);
    }
    return text;
  }
}
