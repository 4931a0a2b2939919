import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CacheKey } from '../src/index.js';
import { collect, openCache } from './helpers.js';

/** The documented key order, written independently of the encoding. */
function rank(key: CacheKey): number {
  return typeof key === 'number' ? 0 : typeof key === 'string' ? 1 : 2;
}
function compareKeys(a: CacheKey, b: CacheKey): number {
  const r = rank(a) - rank(b);
  if (r !== 0) return r;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return Buffer.compare(a as Buffer, b as Buffer);
}
/** Map identity of a key: typed, -0 is 0, Buffers by content. */
function identity(key: CacheKey): string {
  if (typeof key === 'number') return `n:${key === 0 ? 0 : key}`;
  if (typeof key === 'string') return `s:${key}`;
  return `b:${key.toString('hex')}`;
}

const keyArb: fc.Arbitrary<CacheKey> = fc.oneof(
  fc.integer({ min: -20, max: 20 }),
  fc.double({ noNaN: true }),
  fc.constantFrom(0, -0, 1, -1, 1.5, Infinity, -Infinity),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('', 'a', 'ab', 'b', '1', '-1', 'é', '\u{1F600}', '\uFFFF'),
  fc.uint8Array({ maxLength: 4 }).map((u) => Buffer.from(u)),
);
const valueArb = fc.oneof(fc.integer(), fc.string(), fc.array(fc.integer(), { maxLength: 3 }), fc.boolean(), fc.constant(null));

type Command =
  | { op: 'set'; key: CacheKey; value: unknown }
  | { op: 'delete'; key: CacheKey }
  | { op: 'flush' };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, value: valueArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
);

describe('Cache: property', () => {
  it('agrees with a Map for any sequence of set/delete, reads and iteration order included', async () => {
    const cache = await openCache<unknown, CacheKey>({ batchSize: 7 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { maxLength: 60 }), async (commands) => {
        const ns = cache.namespace<unknown, CacheKey>(`run${run++}`);
        const model = new Map<string, [CacheKey, unknown]>();
        const writes: Promise<void>[] = [];
        for (const command of commands) {
          if (command.op === 'set') {
            writes.push(ns.set(command.key, command.value));
            model.set(identity(command.key), [command.key === 0 ? 0 : command.key, command.value]);
          } else if (command.op === 'delete') {
            writes.push(ns.delete(command.key));
            model.delete(identity(command.key));
          } else {
            await ns.flush();
          }
          // Reads agree at every step, pending writes or not.
          if (command.op !== 'flush') {
            const expected = model.get(identity(command.key));
            expect(ns.get(command.key)).toEqual(expected?.[1]);
            expect(ns.has(command.key)).toBe(expected !== undefined);
          }
        }
        await Promise.all(writes);
        const expected = [...model.values()].sort((a, b) => compareKeys(a[0], b[0]));
        expect(await collect(ns.entries())).toEqual(expected);
        expect(await collect(ns.keys({ reverse: true }))).toEqual(expected.map(([k]) => k).reverse());
        for (const [key, value] of expected) expect(ns.get(key)).toEqual(value);
      }),
      { numRuns: 150 },
    );
  });
});
