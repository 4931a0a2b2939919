import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PrefixTracker } from '../src/internal/tracker.js';

describe('PrefixTracker (the checkpoint rule)', () => {
  it('the committable position is always the last of the longest acknowledged prefix, never past an unacknowledged item', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i)))),
        ([n, acks]) => {
          const tracker = new PrefixTracker<number>();
          const items = Array.from({ length: n }, (_, i) => ({ i }));
          items.forEach((item, i) => tracker.track(item, i));
          const done = new Set<number>();
          for (const i of acks) {
            expect(tracker.ack(items[i]!)).toBe(true);
            expect(tracker.ack(items[i]!)).toBe(false); // a second ack of the same item is ignored
            done.add(i);
            let prefix = -1;
            while (done.has(prefix + 1)) prefix++;
            expect(tracker.committable).toBe(prefix === -1 ? undefined : prefix);
          }
          expect(tracker.inFlight).toBe(n - (tracker.committable === undefined ? 0 : tracker.committable + 1));
        },
      ),
    );
  });

  it('equal primitive items are acknowledged first in, first out', () => {
    const tracker = new PrefixTracker<string>();
    tracker.track(7, 'a');
    tracker.track(7, 'b');
    tracker.track(8, 'c');
    tracker.ack(7);
    expect(tracker.committable).toBe('a');
    tracker.ack(8);
    expect(tracker.committable).toBe('a');
    tracker.ack(7);
    expect(tracker.committable).toBe('c');
    expect(tracker.ack(7)).toBe(false);
  });
});
