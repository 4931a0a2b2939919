import type * as avro from 'avsc';
import { loadAvsc } from './avsc.js';

/** The parts of avsc's internal Tap (its read/write cursor over a buffer) this type uses. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  writeLong(n: number): void;
}

interface Resolver {
  _read: (tap: Tap) => unknown;
}

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_52 = 2 ** 52;
const TWO_52_BIG = 2n ** 52n;

function readBigLong(tap: Tap): bigint {
  const buf = tap.buf;
  let unsigned = 0n;
  let shift = 0n;
  let byte: number | undefined;
  do {
    byte = buf[tap.pos++];
    if (byte === undefined) return 0n; // tap.pos is past the end: the caller reports a truncated buffer.
    unsigned |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
  } while (byte & 0x80 && shift < 70n);
  if (byte & 0x80) throw new Error('invalid long: varint longer than 10 bytes');
  unsigned = BigInt.asUintN(64, unsigned);
  return BigInt.asIntN(64, (unsigned >> 1n) ^ -(unsigned & 1n));
}

function writeBigLong(tap: Tap, value: bigint): void {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const buf = tap.buf;
  // Writes past the end are dropped, like avsc's own: the caller sees an invalid tap and resizes.
  while (zigzag > 0x7fn) {
    buf[tap.pos++] = Number(zigzag & 0x7fn) | 0x80;
    zigzag >>= 7n;
  }
  buf[tap.pos++] = Number(zigzag);
}

let safeLong: (new () => avro.types.LongType) | undefined;

/**
 * Avro `long` that never throws for precision: values within ±(2^53 - 1) decode to `number` (the
 * fast path, same as avsc's own), values beyond to `bigint`. Encoding takes either.
 */
export function safeLongType(): new () => avro.types.LongType {
  if (safeLong) return safeLong;
  const { Type, types } = loadAvsc();
  safeLong = class SafeLongType extends types.LongType {
    _check(value: unknown, _flags: unknown, hook?: (value: unknown, type: unknown) => void): boolean {
      const ok = typeof value === 'number'
        ? Number.isSafeInteger(value)
        : typeof value === 'bigint' && value >= MIN && value <= MAX;
      if (!ok && hook) hook(value, this);
      return ok;
    }

    _read(tap: Tap): number | bigint {
      const start = tap.pos;
      const n = tap.readLong();
      // avsc's readLong is exact only while the zig-zag value is below 2^53, that is for
      // -2^52 <= n < 2^52; beyond, its float arithmetic rounds (and even flips the sign of
      // -(2^52 + 1)). Those values are read again exactly.
      if (n >= -TWO_52 && n < TWO_52) return n;
      tap.pos = start;
      const big = readBigLong(tap);
      return big >= -MAX_SAFE && big <= MAX_SAFE ? Number(big) : big;
    }

    _write(tap: Tap, value: unknown): void {
      // avsc's writeLong has the same float limit as its readLong: exact for -2^52 <= n < 2^52.
      if (typeof value === 'number' && Number.isSafeInteger(value)) {
        if (value >= -TWO_52 && value < TWO_52) tap.writeLong(value);
        else writeBigLong(tap, BigInt(value));
      } else if (typeof value === 'bigint' && value >= MIN && value <= MAX) {
        if (value >= -TWO_52_BIG && value < TWO_52_BIG) tap.writeLong(Number(value));
        else writeBigLong(tap, value);
      } else {
        throw new Error(`invalid "long": ${typeof value === 'bigint' ? `${value}n` : String(value)}`);
      }
    }

    _update(resolver: Resolver, type: avro.Type & { _read: (tap: Tap) => unknown }): void {
      if (Type.isType(type, 'int')) resolver._read = type._read;
      else if (Type.isType(type, 'long', 'abstract:long')) resolver._read = (tap) => this._read(tap);
    }
  };
  return safeLong;
}
