import { describeValue } from '@snoopy/core';
import type { Codec } from './codec.js';
import { CodecError } from './errors.js';
import { asBuffer } from './internal/bytes.js';

/**
 * Raw bytes, unchanged. `encode` takes a Buffer or any Uint8Array and `decode` returns a Buffer;
 * neither copies, so the result shares memory with its input.
 */
export class BytesCodec implements Codec<Buffer> {
  readonly name = 'bytes';

  encode(value: Buffer | Uint8Array): Buffer {
    if (!(value instanceof Uint8Array)) {
      throw new CodecError('SNOOPY_CODEC_ENCODE', this.name, `expected a Buffer or Uint8Array, got ${describeValue(value)}`);
    }
    return asBuffer(this.name, value);
  }

  decode(bytes: Buffer | Uint8Array): Buffer {
    return asBuffer(this.name, bytes);
  }
}
