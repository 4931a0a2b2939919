// Where a newly assigned partition starts (rebalance.ts): `offset` only where the group has no
// committed offset, `replay` on purpose.
import { describe, expect, test } from 'vitest';
import { Topic, type KafkaMessage } from '../src/index.js';
import { bootstrapServers, closing, randomName, take } from './helpers.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('start offsets', () => {
  const base = () => ({ 'bootstrap.servers': servers! });
  const values = (items: unknown[]) => items.map((m) => (m as KafkaMessage<number>).value);

  async function filled(n: number): Promise<{ name: string; producer: Topic<number> }> {
    const name = randomName('start');
    const producer = closing(Topic<number>(name, base()));
    await producer.create({ partitions: 1 });
    await Promise.all(Array.from({ length: n }, (_, i) => producer(i)));
    return { name, producer };
  }

  test("offset: 'earliest' does not rewind a restarted worker: the group's commit wins", async () => {
    const { name, producer } = await filled(10);
    const group = randomName('g');
    const first = closing(Topic<number>(name, { ...base(), 'group.id': group }, { offset: 'earliest' }));
    expect(values(await take(first, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await first.close();
    await Promise.all([10, 11].map((v) => producer(v)));
    // The same worker started again (a new Topic, as after a process restart).
    const restarted = closing(Topic<number>(name, { ...base(), 'group.id': group }, { offset: 'earliest' }));
    expect(values(await take(restarted, 2))).toEqual([10, 11]);
  });

  test('a numeric offset applies only where the group has no committed offset', async () => {
    const { name, producer } = await filled(10);
    const group = randomName('g');
    const first = closing(Topic<number>(name, { ...base(), 'group.id': group }, { offset: 3 }));
    expect(values(await take(first, 4))).toEqual([3, 4, 5, 6]);
    await first.close();
    await producer(10);
    const restarted = closing(Topic<number>(name, { ...base(), 'group.id': group }, { offset: 3 }));
    expect(values(await take(restarted, 4))).toEqual([7, 8, 9, 10]);
  });

  test('replay rewinds on purpose, whatever the group committed', async () => {
    const { name } = await filled(5);
    const group = randomName('g');
    const first = closing(Topic<number>(name, { ...base(), 'group.id': group }));
    expect(values(await take(first, 5))).toEqual([0, 1, 2, 3, 4]);
    await first.close();
    const replaying = closing(Topic<number>(name, { ...base(), 'group.id': group }, { replay: 'earliest' }));
    expect(values(await take(replaying, 5))).toEqual([0, 1, 2, 3, 4]);
    await replaying.close();
    const fromTwo = closing(Topic<number>(name, { ...base(), 'group.id': group }, { replay: 2 }));
    expect(values(await take(fromTwo, 3))).toEqual([2, 3, 4]);
  });

  test('offset and replay together are refused at Topic()', () => {
    expect(() => Topic('t', {}, { offset: 'earliest', replay: 'earliest' })).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID', message: expect.stringContaining('`replay`') }));
  });
});
