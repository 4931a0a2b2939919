import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '@snoopy/testing';

describe('partitioner', () => {
  // The vectors of Kafka's own UtilsTest.testMurmur2.
  it('hashes as Kafka does', () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [text, hash] of cases) expect(murmur2(Buffer.from(text)), text).toBe(hash);
  });

  it('maps a key to a stable partition in range', () => {
    for (const key of ['a', 'b', 'customer-17', '']) {
      const p = partitionForKey(Buffer.from(key), 6);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(6);
      expect(partitionForKey(Buffer.from(key), 6)).toBe(p);
    }
  });
});
