/**
 * Stored value format. LevelDB values are written and read as strings (the fast paths of
 * classic-level's `batch` and `getSync`), so every stored value is valid UTF-8:
 *
 *   '0' + codec bytes                    codec bytes that are valid UTF-8 (JSON, strings)
 *   '1' + codec bytes as latin1          any other bytes (Avro...): one char per byte
 *   '2' + expiry + codec bytes           as '0', with an expiry: 15 decimal digits, ms since epoch
 *   '3' + expiry + latin1 bytes          as '1', with an expiry
 *
 * For the built-in `JsonCodec` (exactly that class, unmodified) the text is produced and parsed
 * directly: its bytes are by definition the UTF-8 of `JSON.stringify`, and its decode of valid
 * UTF-8 is `JSON.parse` of the text, so the Buffer round trip in between can be skipped. Anything
 * the fast path cannot handle goes through the codec itself, so errors are the codec's own.
 */
import { isUtf8 } from 'node:buffer';
import { JsonCodec, type Codec } from '@snoopy/codecs';

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

class JsonTextFormat<V> extends BytesFormat<V> {
  override encode(value: V, expiresAt: number | undefined): string {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    // JSON.stringify never yields lone surrogates, so the text is valid UTF-8 as the codec's bytes are.
    if (text === undefined) return super.encode(value, expiresAt); // throws the codec's own error
    return expiresAt === undefined ? '0' + text : '2' + expiryDigits(expiresAt) + text;
  }

  override decode(stored: string, now: () => number): V | undefined {
    const tag = stored.charCodeAt(0);
    try {
      if (tag === PLAIN) return JSON.parse(stored.slice(1)) as V;
      if (tag === TTL_PLAIN) {
        if (now() >= Number(stored.slice(1, TTL_HEADER))) return undefined;
        return JSON.parse(stored.slice(TTL_HEADER)) as V;
      }
    } catch {
      // Not JSON: let the codec say so, with its own error.
    }
    return super.decode(stored, now);
  }
}

const jsonEncode = JsonCodec.prototype.encode;
const jsonDecode = JsonCodec.prototype.decode;

/** The storage format of `codec`: direct JSON text for a plain `JsonCodec`, bytes otherwise. */
export function valueFormat<V>(codec: Codec<V>): ValueFormat<V> {
  const plainJson =
    Object.getPrototypeOf(codec) === JsonCodec.prototype &&
    codec.encode === jsonEncode &&
    codec.decode === jsonDecode &&
    Object.keys(codec).every((key) => key === 'name');
  return plainJson ? new JsonTextFormat(codec) : new BytesFormat(codec);
}
