import type * as avro from 'avsc';
import { loadAvsc } from './avsc.js';

interface Tap {
  readInt(): number;
}

let safeInt: (new () => avro.types.IntType) | undefined;

/**
 * Avro `int` that rejects a varint outside 32 bits on read (as Java's decoder does) instead of
 * returning a number the schema does not allow, and that encode would then refuse.
 */
export function safeIntType(): new () => avro.types.IntType {
  safeInt ??= class SafeIntType extends loadAvsc().types.IntType {
    _read(tap: Tap): number {
      const n = tap.readInt();
      if ((n | 0) !== n) throw new Error(`invalid int: ${n} does not fit in 32 bits`);
      return n;
    }
  };
  return safeInt;
}
