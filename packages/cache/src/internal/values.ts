/**
 * Stored value format. LevelDB values are written and read as strings (the fast paths of
 * classic-level's `batch` and `getSync`), so every stored value is valid UTF-8:
 *
 *   '0' + codec bytes                    codec bytes that are valid UTF-8 (JSON, strings)
 *   '1' + codec bytes as latin1          any other bytes (Avro...): one char per byte
 *   '2' + expiry + codec bytes           as '0', with an expiry: 15 decimal digits, ms since epoch
 *   '3' + expiry + latin1 bytes          as '1', with an expiry
 *
 * A codec with the optional text pair (`encodeText`/`decodeText`, as `JsonCodec` has) is stored as
 * its text directly, which is the same string the bytes path would store, without the Buffer in
 * between. Anything else the text path meets goes through the bytes path, so errors stay the
 * codec's own.
 */
import { isUtf8 } from 'node:buffer';
import type { Codec } from '@snoopy/codecs';

const PLAIN = 0x30;
const LIFTED = 0x31;
const TTL_PLAIN = 0x32;
const TTL_LIFTED = 0x33;
const TTL_HEADER = 16;

/** The latest expiry a value can carry (fits the 15 digits). */
export const MAX_EXPIRY = 999_999_999_999_999;

function expiryDigits(expiresAt: number): string {
  const s = String(expiresAt);
  return '000000000000000'.slice(s.length) + s;
}

function asBuffer(bytes: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The expiry of a stored value, or `undefined` when it has none. */
export function expiryOf(stored: string): number | undefined {
  const tag = stored.charCodeAt(0);
  return tag === TTL_PLAIN || tag === TTL_LIFTED ? Number(stored.slice(1, TTL_HEADER)) : undefined;
}

export class ValueFormatError extends Error {
  constructor(tag: number | undefined) {
    super(`Stored value has an unknown format tag ${String(tag)}`);
  }
}

/** How one codec's values are stored. */
export interface ValueFormat<V> {
  readonly codec: Codec<V>;
  /** The stored string of `value`; `expiresAt` is an integer number of ms since the epoch. */
  encode(value: V, expiresAt: number | undefined): string;
  /** The value of a stored string, `undefined` once expired at `now()` (called only for TTLs). */
  decode(stored: string, now: () => number): V | undefined;
}

class BytesFormat<V> implements ValueFormat<V> {
  constructor(readonly codec: Codec<V>) {}

  encode(value: V, expiresAt: number | undefined): string {
    const bytes = asBuffer(this.codec.encode(value));
    if (isUtf8(bytes)) return (expiresAt === undefined ? '0' : '2' + expiryDigits(expiresAt)) + bytes.toString('utf8');
    return (expiresAt === undefined ? '1' : '3' + expiryDigits(expiresAt)) + bytes.toString('latin1');
  }

  decode(stored: string, now: () => number): V | undefined {
    const tag = stored.charCodeAt(0);
    if (tag === PLAIN) return this.codec.decode(Buffer.from(stored, 'utf8').subarray(1));
    if (tag === LIFTED) return this.codec.decode(Buffer.from(stored, 'latin1').subarray(1));
    if (tag === TTL_PLAIN || tag === TTL_LIFTED) {
      if (now() >= Number(stored.slice(1, TTL_HEADER))) return undefined;
      return this.codec.decode(Buffer.from(stored, tag === TTL_PLAIN ? 'utf8' : 'latin1').subarray(TTL_HEADER));
    }
    throw new ValueFormatError(tag);
  }
}

type TextCodec<V> = Codec<V> & Required<Pick<Codec<V>, 'encodeText' | 'decodeText'>>;

const isWellFormed = (String.prototype as unknown as { isWellFormed(this: string): boolean }).isWellFormed;

class TextFormat<V> extends BytesFormat<V> {
  constructor(private readonly text: TextCodec<V>) {
    super(text);
  }

  override encode(value: V, expiresAt: number | undefined): string {
    const text = this.text.encodeText(value);
    // Text with lone surrogates is not valid UTF-8: the bytes path stores it losslessly.
    if (!isWellFormed.call(text)) return super.encode(value, expiresAt);
    return expiresAt === undefined ? '0' + text : '2' + expiryDigits(expiresAt) + text;
  }

  override decode(stored: string, now: () => number): V | undefined {
    const tag = stored.charCodeAt(0);
    if (tag === PLAIN) return this.text.decodeText(stored.slice(1));
    if (tag === TTL_PLAIN) {
      if (now() >= Number(stored.slice(1, TTL_HEADER))) return undefined;
      return this.text.decodeText(stored.slice(TTL_HEADER));
    }
    return super.decode(stored, now);
  }
}

/** The storage format of `codec`: its text for a codec with the text pair, bytes otherwise. */
export function valueFormat<V>(codec: Codec<V>): ValueFormat<V> {
  const text = typeof codec.encodeText === 'function' && typeof codec.decodeText === 'function';
  return text ? new TextFormat(codec as TextCodec<V>) : new BytesFormat(codec);
}
