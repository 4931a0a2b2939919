import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AvroCodec, CodecError } from '@snoopy/codecs';

const snapstreamSchema = {
  type: 'record',
  name: 'Test',
  fields: [
    { name: 'null', type: 'null' },
    { name: 'boolean', type: 'boolean' },
    { name: 'int', type: 'int' },
    { name: 'string', type: 'string' },
  ],
};

const snapstreamRecord = { null: null, boolean: true, int: 33, string: 'test' };

describe('AvroCodec: snapstream compatibility', () => {
  it('encodes the snapstream test record to 01 42 08 74 65 73 74 and decodes it back', () => {
    const codec = new AvroCodec(snapstreamSchema);
    const bytes = codec.encode(snapstreamRecord);
    expect(bytes.toString('hex')).toBe('01420874657374');
    expect(codec.decode(Buffer.from('01420874657374', 'hex'))).toStrictEqual(snapstreamRecord);
  });

  it('takes the schema as an object, a JSON string or an .avsc path alike', () => {
    const dir = mkdtempSync(join(tmpdir(), 'snoopy-avsc-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'test.avsc');
    writeFileSync(path, JSON.stringify(snapstreamSchema));
    for (const schema of [snapstreamSchema, JSON.stringify(snapstreamSchema), `  ${JSON.stringify(snapstreamSchema)}`, path]) {
      const codec = new AvroCodec(schema);
      expect(codec.name).toBe('avro:Test');
      expect(codec.encode(snapstreamRecord).toString('hex')).toBe('01420874657374');
    }
  });

  it('fails at construction with SNOOPY_CODEC_SCHEMA for a bad schema, bad JSON or a missing file', () => {
    expect(() => new AvroCodec({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'nope' }] })).toThrow(
      expect.objectContaining({ code: 'SNOOPY_CODEC_SCHEMA' }),
    );
    expect(() => new AvroCodec('{"type": "record"')).toThrow(/not valid JSON/);
    expect(() => new AvroCodec('/nonexistent/schema.avsc')).toThrow(/cannot read schema file "\/nonexistent\/schema.avsc"/);
  });

  it('decodes to plain objects', () => {
    const value = new AvroCodec(snapstreamSchema).decode(Buffer.from('01420874657374', 'hex'));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('decodes ambiguous unions as plain { branch: value } objects and encodes them back', () => {
    const codec = new AvroCodec({
      type: 'record',
      name: 'Event',
      fields: [
        {
          name: 'body',
          type: [
            'null',
            { type: 'record', name: 'Click', fields: [{ name: 'x', type: 'int' }] },
            { type: 'record', name: 'Scroll', fields: [{ name: 'dy', type: 'int' }] },
          ],
        },
      ],
    });
    for (const value of [{ body: { Click: { x: 1 } } }, { body: { Scroll: { dy: -3 } } }, { body: null }]) {
      const decoded = codec.decode(codec.encode(value)) as { body: Record<string, object> | null };
      expect(decoded).toStrictEqual(value);
      if (decoded.body) {
        expect(Object.getPrototypeOf(decoded.body)).toBe(Object.prototype);
        expect(Object.getPrototypeOf(Object.values(decoded.body)[0])).toBe(Object.prototype);
      }
    }
  });
});

describe('AvroCodec: garbage, truncated and empty input', () => {
  const codec = new AvroCodec(snapstreamSchema);
  const good = Buffer.from('01420874657374', 'hex');

  it('throws SNOOPY_CODEC_DECODE for empty input and every truncation of a valid message', () => {
    for (let end = 0; end < good.length; end++) {
      expect(() => codec.decode(good.subarray(0, end)), `prefix of ${end} bytes`).toThrow(
        expect.objectContaining({ code: 'SNOOPY_CODEC_DECODE', codec: 'avro:Test' }),
      );
    }
  });

  it('throws SNOOPY_CODEC_DECODE for trailing bytes and garbage, with a preview of the bytes', () => {
    expect(() => codec.decode(Buffer.concat([good, Buffer.from([0])]))).toThrow(/trailing data/);
    expect(() => codec.decode(Buffer.from([0x01, 0x42, 0x7f, 0x00]))).toThrow(/<01 42 7f 00> \(4 bytes\)/);
    expect(() => codec.decode(Buffer.alloc(32, 0xff))).toThrow(CodecError);
    expect(() => codec.decode(Buffer.from('hello, world'))).toThrow(CodecError);
  });

  it('rejects an int varint beyond 32 bits instead of returning a value the schema does not allow', () => {
    // null, boolean false, then the varint of 2^32 (zig-zag 2^31) where an int belongs.
    expect(() => codec.decode(Buffer.from([0, 128, 128, 128, 128, 16, 4, 0x74, 0x74]))).toThrow(/invalid int/);
  });

  it('keeps a map key named __proto__ as an own entry', () => {
    const map = new AvroCodec<Record<string, number>>({ type: 'map', values: 'int' });
    const value = JSON.parse('{"__proto__": 1, "a": 2}') as Record<string, number>;
    const decoded = map.decode(map.encode(value));
    expect(Object.keys(decoded)).toStrictEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded).toStrictEqual(value);
  });

  it('only ever throws CodecError for random bytes, and what it decodes is valid for the schema (property)', () => {
    const rich = new AvroCodec(richSchema);
    const type = avro.Type.forSchema(snapstreamSchema as avro.Schema);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        for (const c of [codec, rich]) {
          let value: unknown;
          try {
            value = c.decode(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
            expect((error as CodecError).code).toBe('SNOOPY_CODEC_DECODE');
            continue;
          }
          if (c === codec) expect(type.isValid(value)).toBe(true);
          // Whatever decodes is a value of the schema: it encodes again.
          c.encode(value);
        }
      }),
      { numRuns: 2000 },
    );
  });

});

const richSchema = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'qty', type: 'int' },
    { name: 'price', type: 'double' },
    { name: 'ratio', type: 'float' },
    { name: 'paid', type: 'boolean' },
    { name: 'customer', type: 'string' },
    { name: 'blob', type: 'bytes' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: 'long' } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 4 } },
    { name: 'placedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    {
      name: 'lines',
      type: { type: 'array', items: { type: 'record', name: 'Line', fields: [{ name: 'sku', type: 'string' }, { name: 'n', type: 'int' }] } },
    },
  ],
};

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => (Number.isSafeInteger(Number(n)) && BigInt(Number(n)) === n ? Number(n) : n));
const decimal = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 10n - 1n }), fc.integer({ min: 0, max: 99 }))
  .map(([negative, whole, cents]) => `${negative && (whole > 0n || cents > 0) ? '-' : ''}${whole}.${String(cents).padStart(2, '0')}`);
const order = fc.record({
  id: int64,
  qty: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  price: fc.double({ noNaN: true }),
  ratio: fc.float({ noNaN: true }),
  paid: fc.boolean(),
  customer: fc.string({ unit: 'grapheme' }),
  blob: fc.uint8Array().map((u) => Buffer.from(u)),
  status: fc.constantFrom('NEW', 'PAID', 'SHIPPED'),
  tags: fc.array(fc.string()),
  attrs: fc.dictionary(fc.string(), int64.filter((n): n is number => typeof n === 'number'), { noNullPrototype: true }),
  note: fc.option(fc.string(), { nil: null }),
  hash: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((u) => Buffer.from(u)),
  placedAt: fc.date({ noInvalidDate: true, min: new Date(-8.64e15 + 1), max: new Date(8.64e15) }),
  amount: decimal,
  lines: fc.array(fc.record({ sku: fc.string(), n: fc.integer({ min: 0, max: 1000 }) }, { noNullPrototype: true })),
}, { noNullPrototype: true });

describe('AvroCodec: round trips', () => {
  it('round-trips generated records with every kind of field (property)', () => {
    const codec = new AvroCodec(richSchema);
    fc.assert(
      fc.property(order, (value) => {
        const decoded = codec.decode(codec.encode(value));
        expect(decoded).toStrictEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('writes the same bytes as plain avsc for values both accept (property)', () => {
    const snoopy = new AvroCodec(richSchema);
    const plain = avro.Type.forSchema(JSON.parse(JSON.stringify(richSchema), (key, v: unknown) => (key === 'logicalType' ? undefined : v)) as avro.Schema);
    fc.assert(
      fc.property(order, (value) => {
        const raw = {
          ...value,
          id: Number(value.id),
          placedAt: value.placedAt.getTime(),
          amount: snoopyDecimalBytes(snoopy, value.amount),
        };
        // avsc's own long is exact only within ±2^52 (beyond, it writes rounded bytes): compare there.
        const exact = (n: unknown) => typeof n === 'number' && Math.abs(n) < 2 ** 52;
        fc.pre(exact(raw.id) && Object.values(value.attrs).every(exact) && exact(raw.placedAt));
        expect(snoopy.encode(value).equals(plain.toBuffer(raw))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips every int64, as number within 2^53 and bigint beyond (property)', () => {
    const codec = new AvroCodec<number | bigint>('"long"');
    fc.assert(
      fc.property(int64, (value) => {
        const decoded = codec.decode(codec.encode(value));
        expect(decoded).toBe(value);
        expect(typeof decoded).toBe(Math.abs(Number(value)) <= Number.MAX_SAFE_INTEGER ? 'number' : 'bigint');
      }),
    );
    expect(codec.decode(codec.encode(2n ** 63n - 1n))).toBe(2n ** 63n - 1n);
    expect(codec.decode(codec.encode(-(2n ** 63n)))).toBe(-(2n ** 63n));
    expect(codec.decode(codec.encode(2n ** 53n))).toBe(2n ** 53n);
    expect(codec.encode(2n ** 53n - 1n).equals(codec.encode(2 ** 53 - 1))).toBe(true);
    // Bytes of 2^63 - 1 as written by the Avro spec's zig-zag varint (Java writes the same).
    expect(codec.encode(2n ** 63n - 1n).toString('hex')).toBe('feffffffffffffffff01');
    // avsc's own long rounds from ±2^52 on (it reads -(2^52 + 1) as +2^52); snoopy's is exact.
    for (const n of [2 ** 52 - 1, 2 ** 52, 2 ** 52 + 1, -(2 ** 52), -(2 ** 52) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      expect(codec.encode(n).equals(zigzagVarint(BigInt(n))), String(n)).toBe(true);
      expect(codec.decode(zigzagVarint(BigInt(n)))).toBe(n);
    }
  });

  it('rejects longs outside int64 and unsafe numbers', () => {
    const codec = new AvroCodec('"long"');
    expect(() => codec.encode(2n ** 63n)).toThrow(expect.objectContaining({ code: 'SNOOPY_CODEC_ENCODE' }));
    expect(() => codec.encode(2 ** 60)).toThrow(/expected long, got `1152921504606847000` \(number\)/);
    expect(() => codec.decode(Buffer.alloc(11, 0xff))).toThrow(CodecError);
  });
});

describe('AvroCodec: logical types', () => {
  it('decodes timestamp-millis and timestamp-micros to Date', () => {
    const millis = new AvroCodec({ type: 'long', logicalType: 'timestamp-millis' });
    const micros = new AvroCodec({ type: 'long', logicalType: 'timestamp-micros' });
    const date = new Date('2026-11-23T13:20:00.123Z');
    expect(millis.decode(millis.encode(date))).toStrictEqual(date);
    expect(micros.decode(micros.encode(date))).toStrictEqual(date);
    // The raw longs are what other Avro implementations write.
    const long = avro.Type.forSchema('long');
    expect(long.fromBuffer(millis.encode(date))).toBe(date.getTime());
    expect(long.fromBuffer(micros.encode(date))).toBe(date.getTime() * 1000);
    expect(micros.decode(long.toBuffer(date.getTime() * 1000 + 999))).toStrictEqual(date);
    expect(() => millis.encode(date.getTime() as unknown as Date)).toThrow(/expected a Date \(timestamp-millis\)/);
    expect(() => millis.encode(new Date(Number.NaN))).toThrow(CodecError);
  });

  it('decodes decimal to an exact string with scale digits, from bytes and fixed', () => {
    const bytes = new AvroCodec({ type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 });
    const fixed = new AvroCodec({ type: 'fixed', name: 'Money', size: 8, logicalType: 'decimal', precision: 18, scale: 3 });
    expect(bytes.decode(bytes.encode('-12.3'))).toBe('-12.30');
    expect(bytes.decode(bytes.encode('0.05'))).toBe('0.05');
    expect(bytes.decode(bytes.encode('1234567.89'))).toBe('1234567.89');
    expect(fixed.decode(fixed.encode('-0.001'))).toBe('-0.001');
    expect(fixed.decode(fixed.encode('999999999999999.999'))).toBe('999999999999999.999');
    // Two's complement big-endian unscaled value, as the spec says: -1230 = 0xfb32.
    expect(avro.Type.forSchema('bytes').fromBuffer(bytes.encode('-12.30'))).toStrictEqual(Buffer.from([0xfb, 0x32]));
    expect(() => bytes.encode('1.234')).toThrow(/expected a decimal string, got `"1.234"` \(string\)/);
    expect(() => bytes.encode('12345678.00')).toThrow(CodecError);
    expect(() => bytes.encode(1.5 as unknown as string)).toThrow(CodecError);
  });
});

describe('AvroCodec: encode errors', () => {
  const codec = new AvroCodec(richSchema);
  const valid = fc.sample(order, { numRuns: 1, seed: 42 })[0]!;

  it('names the first offending field path and the value type', () => {
    const cases: [unknown, RegExp, string[]][] = [
      [{ ...valid, qty: 'three' }, /field `qty`: expected int, got `"three"` \(string\)/, ['qty']],
      [{ ...valid, customer: undefined }, /field `customer`: expected string, got `undefined` \(undefined\)/, ['customer']],
      [{ ...valid, lines: [{ sku: 'a', n: 1 }, { sku: 'b', n: 1.5 }] }, /field `lines.1.n`: expected int, got `1.5` \(number\)/, ['lines', '1', 'n']],
      [{ ...valid, status: 'LOST' }, /field `status`: expected enum shop.Status, got `"LOST"` \(string\)/, ['status']],
      [{ ...valid, attrs: { a: 'x' } }, /field `attrs.a`: expected long/, ['attrs', 'a']],
      [{ ...valid, note: 5 }, /field `note`: expected one of null \| string, got `5` \(number\)/, ['note']],
      ['not a record', /the value: expected record shop.Order, got `"not a record"` \(string\)/, []],
    ];
    for (const [value, message, path] of cases) {
      let error: unknown;
      try {
        codec.encode(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CodecError);
      expect(error).toMatchObject({ code: 'SNOOPY_CODEC_ENCODE', codec: 'avro:shop.Order', path });
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('AvroCodec: schema evolution', () => {
  const v1 = {
    type: 'record',
    name: 'User',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'name', type: 'string' },
      { name: 'legacy', type: 'string' },
    ],
  };
  const v2 = {
    type: 'record',
    name: 'User',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'name', type: 'string' },
      { name: 'email', type: ['null', 'string'], default: null },
      { name: 'score', type: 'double', default: 1.5 },
    ],
  };

  it('reads data written with the writer schema as the reader schema: new fields get defaults, removed fields are dropped', () => {
    const writer = new AvroCodec(v1);
    const reader = new AvroCodec(v1, { readerSchema: v2 });
    const bytes = writer.encode({ id: 7, name: 'ada', legacy: 'x' });
    expect(reader.decode(bytes)).toStrictEqual({ id: 7, name: 'ada', email: null, score: 1.5 });
  });

  it('promotes int to long and double, and keeps logical types across evolution', () => {
    const writer = new AvroCodec({ type: 'record', name: 'E', fields: [{ name: 'n', type: 'int' }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' } }] });
    const reader = new AvroCodec(writer.schema as Record<string, unknown>, {
      readerSchema: { type: 'record', name: 'E', fields: [{ name: 'n', type: 'double' }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }] },
    });
    const at = new Date('2020-01-02T03:04:05.006Z');
    expect(reader.decode(writer.encode({ n: 3, at }))).toStrictEqual({ n: 3, at });
  });

  it('resolves map values across schemas, keeping every key', () => {
    const writer = new AvroCodec({ type: 'map', values: 'int' });
    const reader = new AvroCodec({ type: 'map', values: 'int' }, { readerSchema: { type: 'map', values: 'double' } });
    const value = JSON.parse('{"__proto__": 1, "b": -2}') as Record<string, number>;
    expect(reader.decode(writer.encode(value))).toStrictEqual(value);
  });

  it('fails at construction with SNOOPY_CODEC_SCHEMA for an incompatible pair', () => {
    const incompatible = { type: 'record', name: 'User', fields: [{ name: 'id', type: 'string' }] };
    const missingDefault = { type: 'record', name: 'User', fields: [{ name: 'id', type: 'long' }, { name: 'age', type: 'int' }] };
    for (const readerSchema of [incompatible, missingDefault]) {
      let error: unknown;
      try {
        new AvroCodec(v1, { readerSchema });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CodecError);
      expect(error).toMatchObject({ code: 'SNOOPY_CODEC_SCHEMA' });
      expect((error as Error).message).toMatch(/reader schema cannot read writer User/);
    }
  });

  it('rejects bad options at construction', () => {
    expect(() => new AvroCodec(v1, { readerSchema: 5 as never })).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
    expect(() => new AvroCodec(v1, { subject: 'x' })).toThrow(/Expected AvroCodec `registry` with `subject`/);
    expect(() => new AvroCodec(v1, { colour: 'red' } as never)).toThrow(/Unknown AvroCodec option `colour`/);
  });
});

function snoopyDecimalBytes(codec: AvroCodec, amount: string): Buffer {
  const scale = 2;
  const [whole = '0', fraction = ''] = amount.replace('-', '').split('.');
  let unscaled = BigInt(whole + fraction.padEnd(scale, '0'));
  if (amount.startsWith('-')) unscaled = -unscaled;
  void codec;
  let bytes = 1;
  while (unscaled < -(1n << BigInt(bytes * 8 - 1)) || unscaled >= 1n << BigInt(bytes * 8 - 1)) bytes++;
  const out = Buffer.alloc(bytes);
  let rest = BigInt.asUintN(bytes * 8, unscaled);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** The Avro spec's encoding of a long, written out independently of avsc and snoopy. */
function zigzagVarint(n: bigint): Buffer {
  let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  const out: number[] = [];
  do {
    const low = Number(z & 0x7fn);
    z >>= 7n;
    out.push(z > 0n ? low | 0x80 : low);
  } while (z > 0n);
  return Buffer.from(out);
}
