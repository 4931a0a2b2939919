import { describe, expect, test } from 'vitest';
import { Topic } from '../src/index.js';
import { bootstrapServers, closing, randomName } from './helpers.js';

/** Kafka's Java `Utils.murmur2` (seed 0x9747b28c), to check where keys land. */
function murmur2(data: Buffer): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) + ((data[i4 + 1]! & 0xff) << 8) + ((data[i4 + 2]! & 0xff) << 16) + ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length & 3;
  const base = length & ~3;
  if (rest === 3) h ^= (data[base + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[base + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[base]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}

const servers = bootstrapServers();

describe.skipIf(!servers)('partitioner', () => {
  test('keyed messages land where Java clients put them (murmur2_random)', async () => {
    const topic = closing(Topic<number>(randomName('keys'), { 'bootstrap.servers': servers! }));
    await topic.create({ partitions: 7 });
    const keys = Array.from({ length: 50 }, (_, i) => `key-${i}-${'x'.repeat(i % 5)}`);
    const deliveries = await Promise.all(keys.map((k, i) => topic([k, i])));
    deliveries.forEach((d, i) => {
      expect(d.partition, keys[i]).toBe((murmur2(Buffer.from(keys[i]!)) & 0x7fffffff) % 7);
    });
  });
});
