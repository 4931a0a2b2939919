import type * as avro from 'avsc';
import { loadAvsc } from './avsc.js';
import { safeLongType } from './long-type.js';

type AnyType = avro.Type;

const MAX_DATE_MS = 8.64e15;

function toDate(ms: number): Date {
  if (!(ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS)) throw new Error(`timestamp ${ms} ms is outside the range of Date`);
  return new Date(ms);
}

/** Microseconds (number or bigint) to whole milliseconds, floored. */
function microsToMillis(value: number | bigint): number {
  if (typeof value === 'number') return Math.floor(value / 1000);
  const q = value / 1000n;
  return Number(value < 0n && q * 1000n !== value ? q - 1n : q);
}

/** Gives a timestamp the exact `long` of snoopy (avsc's own rounds beyond ±2^52). */
function useSafeLong(type: avro.types.LogicalType): void {
  (type as unknown as { _underlyingType: AnyType })._underlyingType = new (safeLongType())();
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

function toTwosComplement(unscaled: bigint, size: number | undefined): Buffer | undefined {
  // Minimal big-endian two's complement, or sign-extended to `size` for fixed.
  let bytes = 1;
  while (unscaled < -(1n << BigInt(bytes * 8 - 1)) || unscaled >= 1n << BigInt(bytes * 8 - 1)) bytes++;
  const length = size ?? bytes;
  if (bytes > length) return undefined;
  const out = Buffer.alloc(length);
  let rest = BigInt.asUintN(length * 8, unscaled);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

function fromTwosComplement(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  let unsigned = 0n;
  for (const byte of bytes) unsigned = (unsigned << 8n) | BigInt(byte);
  return BigInt.asIntN(bytes.length * 8, unsigned);
}

/** The logical types snoopy implements, by `logicalType` name, as avsc's `logicalTypes` option takes them. */
export type LogicalTypes = Readonly<Record<'timestamp-millis' | 'timestamp-micros' | 'decimal', new (schema: never, opts?: unknown) => avro.types.LogicalType>>;

let logical: LogicalTypes | undefined;

/** snoopy's logical types, made on first use (they extend avsc's classes, which load with it). */
export function logicalTypes(): LogicalTypes {
  if (logical) return logical;
  const { Type, types } = loadAvsc();

  /** `timestamp-millis` on a `long`: a `Date`. */
  class TimestampMillisType extends types.LogicalType {
    constructor(schema: avro.Schema, opts?: unknown) {
      super(schema, opts);
      useSafeLong(this);
    }

    protected override _fromValue(value: number | bigint): Date {
      return toDate(Number(value));
    }

    protected override _toValue(value: unknown): number | undefined {
      return value instanceof Date && !Number.isNaN(value.getTime()) ? value.getTime() : undefined;
    }

    protected override _resolve(type: AnyType): ((value: unknown) => unknown) | undefined {
      if (Type.isType(type, 'logical:timestamp-millis', 'logical:timestamp-micros')) return (value) => value;
      if (Type.isType(type, 'long', 'int')) return (value) => this._fromValue(value as number | bigint);
      return undefined;
    }
  }

  /** `timestamp-micros` on a `long`: a `Date`, so to the millisecond (finer digits are floored on decode). */
  class TimestampMicrosType extends types.LogicalType {
    constructor(schema: avro.Schema, opts?: unknown) {
      super(schema, opts);
      useSafeLong(this);
    }

    protected override _fromValue(value: number | bigint): Date {
      return toDate(microsToMillis(value));
    }

    protected override _toValue(value: unknown): bigint | undefined {
      return value instanceof Date && !Number.isNaN(value.getTime()) ? BigInt(value.getTime()) * 1000n : undefined;
    }

    protected override _resolve(type: AnyType): ((value: unknown) => unknown) | undefined {
      if (Type.isType(type, 'logical:timestamp-millis', 'logical:timestamp-micros')) return (value) => value;
      if (Type.isType(type, 'long', 'int')) return (value) => this._fromValue(value as number | bigint);
      return undefined;
    }
  }

  /**
   * `decimal` on `bytes` or `fixed`: a string of the exact value with exactly `scale` fraction
   * digits (`"-12.30"` for scale 2). Encoding takes such a string with at most `scale` fraction
   * digits and at most `precision` digits in all; anything else would lose digits and is an error.
   */
  class DecimalType extends types.LogicalType {
    readonly precision: number;
    readonly scale: number;
    readonly #size: number | undefined;

    constructor(schema: Record<string, unknown>, opts?: unknown) {
      super(schema as never, opts);
      const precision = schema.precision;
      const scale = schema.scale ?? 0;
      if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1) throw new Error('invalid decimal precision');
      if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision) throw new Error('invalid decimal scale');
      const underlying = this.underlyingType as AnyType & { size?: number };
      if (!Type.isType(underlying, 'bytes', 'fixed')) throw new Error('decimal must be bytes or fixed');
      this.precision = precision;
      this.scale = scale;
      this.#size = Type.isType(underlying, 'fixed') ? underlying.size : undefined;
    }

    protected override _fromValue(bytes: Buffer): string {
      const unscaled = fromTwosComplement(bytes);
      const negative = unscaled < 0n;
      const digits = (negative ? -unscaled : unscaled).toString().padStart(this.scale + 1, '0');
      const whole = digits.slice(0, digits.length - this.scale);
      const fraction = digits.slice(digits.length - this.scale);
      return `${negative ? '-' : ''}${whole}${this.scale ? `.${fraction}` : ''}`;
    }

    protected override _toValue(value: unknown): Buffer | undefined {
      if (typeof value !== 'string') return undefined;
      const match = DECIMAL.exec(value);
      if (!match) return undefined;
      const [, sign, whole = '', fraction = ''] = match;
      if (fraction.length > this.scale) return undefined;
      const digits = (whole + fraction.padEnd(this.scale, '0')).replace(/^0+(?=\d)/, '');
      if (digits.length > this.precision) return undefined;
      const unscaled = BigInt(digits) * (sign === '-' ? -1n : 1n);
      return toTwosComplement(unscaled, this.#size);
    }

    protected override _resolve(type: AnyType): ((value: unknown) => unknown) | undefined {
      if (type instanceof DecimalType && type.scale === this.scale && type.precision <= this.precision) return (value) => value;
      return undefined;
    }
  }

  logical = { 'timestamp-millis': TimestampMillisType, 'timestamp-micros': TimestampMicrosType, decimal: DecimalType };
  return logical;
}
