import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PartitionOffsets } from '../src/offsets.js';

describe('PartitionOffsets', () => {
  test('commits the offset after the contiguous acknowledged prefix', () => {
    const p = new PartitionOffsets('t', 0);
    for (const o of [10, 11, 12, 14, 15]) expect(p.track(o)).toBe(true);
    p.ack(11);
    expect(p.committable).toBeUndefined();
    p.ack(10);
    expect(p.committable).toBe(12);
    p.ack(14);
    expect(p.committable).toBe(12);
    p.ack(12);
    expect(p.committable).toBe(15);
    expect(p.inFlight).toBe(1);
    p.ack(15);
    expect(p.committable).toBe(16);
    expect(p.inFlight).toBe(0);
  });

  test('refuses offsets that are not after the last one (stale redeliveries)', () => {
    const p = new PartitionOffsets('t', 0);
    expect(p.track(5)).toBe(true);
    expect(p.track(5)).toBe(false);
    expect(p.track(3)).toBe(false);
  });

  test('property: a commit never covers an unacknowledged offset, and all acked commits everything', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: 10_000 }), { minLength: 1, maxLength: 300 }).map((a) => a.sort((x, y) => x - y)),
        fc.infiniteStream(fc.nat()),
        (offsets, randomness) => {
          const p = new PartitionOffsets('t', 0);
          for (const o of offsets) p.track(o);
          const order = [...offsets];
          const it = randomness[Symbol.iterator]();
          for (let i = order.length - 1; i > 0; i--) {
            const j = it.next().value! % (i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          const acked = new Set<number>();
          for (const o of order) {
            p.ack(o);
            acked.add(o);
            if (p.committable !== undefined) {
              for (const x of offsets) if (x < p.committable) expect(acked.has(x)).toBe(true);
            }
          }
          expect(p.committable).toBe(offsets[offsets.length - 1]! + 1);
          expect(p.inFlight).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('acks after retirement are ignored', () => {
    const p = new PartitionOffsets('t', 0);
    p.track(0);
    p.retired = true;
    expect(p.ack(0)).toBe(false);
    expect(p.committable).toBeUndefined();
  });
});
