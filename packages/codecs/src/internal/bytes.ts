import { describeValue } from '@snoopy/core';
import { CodecError } from '../errors.js';

/** The same bytes as a Buffer, without copying. Anything but a Uint8Array is a decode error of `codec`. */
export function asBuffer(codec: string, bytes: Buffer | Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new CodecError('SNOOPY_CODEC_DECODE', codec, `expected a Buffer or Uint8Array to decode, got ${describeValue(bytes)}`);
}
