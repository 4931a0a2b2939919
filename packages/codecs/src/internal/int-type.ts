import avro from 'avsc';

interface Tap {
  readInt(): number;
}

/**
 * Avro `int` that rejects a varint outside 32 bits on read (as Java's decoder does) instead of
 * returning a number the schema does not allow, and that encode would then refuse.
 */
export class SafeIntType extends avro.types.IntType {
  _read(tap: Tap): number {
    const n = tap.readInt();
    if ((n | 0) !== n) throw new Error(`invalid int: ${n} does not fit in 32 bits`);
    return n;
  }
}
