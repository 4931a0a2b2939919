// For random inserts and queries, every store agrees with a plain in-memory reference:
// filter, sort by (at, insertion) newest first, slice.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { expect } from 'vitest';
import { feed } from '../src/index.js';
import { storeKinds } from './helpers.js';

type Value = number | string;
interface Ev {
  n: number;
  user?: Value | Value[];
  kind?: string;
  repo?: string;
}
type Query = { user?: Value | Value[]; kind?: string | string[]; repo?: string | string[] };

const KEYS = ['user', 'kind', 'repo'] as const;
const userValue = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom('1', '2', '3', '5'));
const kindValue = fc.constantFrom('play', 'score', 'friend', 'friend-1');
const repoValue = fc.constantFrom('a', 'b', 'a-b');

const eventArb = fc.record(
  {
    user: fc.oneof(userValue, fc.array(userValue, { maxLength: 3 })),
    kind: kindValue,
    repo: repoValue,
  },
  { requiredKeys: [] },
);
const insertArb = fc.record({ event: eventArb, at: fc.integer({ min: 0, max: 12 }), burst: fc.boolean() });
const queryArb = fc.record({
  filters: fc.record(
    {
      user: fc.oneof(userValue, fc.array(userValue, { maxLength: 3 })),
      kind: fc.oneof(kindValue, fc.array(kindValue, { maxLength: 2 })),
      repo: fc.oneof(repoValue, fc.array(repoValue, { maxLength: 2 })),
    },
    { requiredKeys: [] },
  ),
  start: fc.integer({ min: 0, max: 8 }),
  size: fc.integer({ min: 0, max: 12 }),
});

const norm = (v: Value): string => String(v);
const valuesOf = (v: Value | Value[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(norm) : [norm(v)]);

function matches(event: Ev, filters: Query): boolean {
  for (const key of KEYS) {
    const f = filters[key];
    if (f === undefined) continue;
    const want = valuesOf(f as Value | Value[]);
    const have = valuesOf(event[key] as Value | Value[] | undefined);
    if (!want.some((w) => have.includes(w))) return false;
  }
  return true;
}

for (const kind of storeKinds) {
  describe.skipIf(!kind.available)(`feed on ${kind.name} against an in-memory reference`, () => {
    it('returns what the reference returns, for random inserts and queries', { timeout: 240_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(insertArb, { minLength: 1, maxLength: 40 }), fc.array(queryArb, { minLength: 1, maxLength: 12 }), async (inserts, queries) => {
          // Each run closes its own client or pool, so that runs do not pile up connections.
          const { store, dispose } = await kind.open();
          const f = feed<Ev>({ keys: [...KEYS], store });
          try {
            const reference: { at: number; order: number; event: Ev }[] = [];
            // Consecutive inserts marked `burst` go out together (one batch): order is call order.
            let burst: Promise<string>[] = [];
            for (const [i, ins] of inserts.entries()) {
              const event = { n: i, ...ins.event } as Ev;
              reference.push({ at: ins.at, order: i, event });
              const p = f.insert(event, { at: ins.at });
              if (ins.burst) burst.push(p);
              else {
                await Promise.all(burst);
                burst = [];
                await p;
              }
            }
            await Promise.all(burst);
            const sorted = [...reference].sort((a, b) => b.at - a.at || b.order - a.order);
            for (const q of queries) {
              const want = sorted.filter((r) => matches(r.event, q.filters)).map((r) => r.event.n);
              const got = (await f.items(q.filters, { start: q.start, end: q.start + q.size })).map((e) => e.n);
              expect(got, JSON.stringify(q)).toEqual(want.slice(q.start, q.start + q.size));
              expect(await f.count(q.filters)).toBe(want.length);
              const scanned = [];
              for await (const entry of f.scan(q.filters, { pageSize: 3 })) scanned.push(entry.event.n);
              expect(scanned).toEqual(want);
            }
          } finally {
            await f.close();
            await dispose();
          }
        }),
        { numRuns: 25 },
      );
    });
  });
}
