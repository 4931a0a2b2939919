import type * as avro from 'avsc';
import { loadAvsc } from './avsc.js';

interface Tap {
  readLong(): number;
  skipLong(): void;
  readString(): string;
}

interface Reader {
  _read(tap: Tap): unknown;
}

let safeMap: (new (schema: never, opts: unknown) => avro.types.MapType) | undefined;

/**
 * Avro `map` whose decoded objects keep a `__proto__` key as an own entry: avsc assigns
 * `map[key] = value`, which for that key sets the prototype and loses the entry. Like avsc's own,
 * the reader takes its values type from `this`, so the resolvers avsc builds from it (which copy
 * `_read` and carry their own `valuesType`) read a writer's values correctly.
 */
export function safeMapType(): new (schema: never, opts: unknown) => avro.types.MapType {
  if (safeMap) return safeMap;
  const { types } = loadAvsc();
  safeMap = class SafeMapType extends types.MapType {
    _read(this: { valuesType: Reader }, tap: Tap): Record<string, unknown> {
      const values = this.valuesType;
      const map: Record<string, unknown> = {};
      for (;;) {
        let n = tap.readLong();
        if (n === 0) return map;
        if (n < 0) {
          // A negative count is followed by the block's size in bytes.
          n = -n;
          tap.skipLong();
        }
        while (n--) {
          const key = tap.readString();
          const value = values._read(tap);
          if (key === '__proto__') Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
          else map[key] = value;
        }
      }
    }
  };
  return safeMap;
}
