import type { Source } from '../options.js';

/**
 * Number of items a source holds, when that is really a count: arrays and typed arrays
 * (`length`), `Set` and `Map` (`size`). Anything else, including a function object that is also
 * iterable (a Kafka `Topic`, a `Cache`, whose `length` is the function's arity), is of unknown
 * size: no progress bar promises a total it cannot know.
 */
export function sizeOf(source: Source): number | undefined {
  if (Array.isArray(source)) return source.length;
  if (ArrayBuffer.isView(source) && !(source instanceof DataView)) return (source as unknown as ArrayLike<unknown>).length;
  if (source instanceof Set || source instanceof Map) return source.size;
  return undefined;
}
