import { progress } from '@snoopy/core';
import { describe, expect, test } from 'vitest';
import { Topic, type KafkaMessage } from '../src/index.js';
import { bootstrapServers, closing, randomName } from './helpers.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('Topic [progress] on a real broker', () => {
  test('reports the group lag over the held partitions: what is on the broker after the last message handed out', async () => {
    const name = randomName('lag');
    const producer = closing(Topic<number>(name, { 'bootstrap.servers': servers! }));
    await producer.create({ partitions: 1 });
    for (let i = 0; i < 50; i++) await producer(i);

    const source = closing(Topic<number>(name, { 'bootstrap.servers': servers!, 'group.id': randomName('lag-group') }, { offset: 'earliest' }));
    expect(source[progress]()).toBeUndefined(); // no consumer yet: nothing to report, not zero
    const it = source[Symbol.asyncIterator]();
    try {
      const taken: number[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await it.next();
        taken.push((r.value as KafkaMessage<number>).value);
      }
      expect(taken).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // librdkafka learns the high watermark from a fetch response; poll a bounded while for it.
      const deadline = Date.now() + 20_000;
      let report = source[progress]();
      while (report?.lag !== 40 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        report = source[progress]();
      }
      expect(report, 'lag after handing out 10 of 50 messages').toEqual({ lag: 40 });
      for (let i = 0; i < 40; i++) await it.next();
      expect(source[progress]()).toEqual({ lag: 0 });
    } finally {
      await it.return?.();
    }
  });
});
