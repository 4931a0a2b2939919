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

describe('a lost membership (faked: a healthy broker does not evict a member that keeps polling)', () => {
  test('is logged at warn with the reason, and its partitions are not committed', async () => {
    const { Rebalancer } = await import('../src/rebalance.js');
    const { PartitionOffsets } = await import('../src/offsets.js');
    const { resolveTopicOptions } = await import('../src/options.js');
    const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
    const log = Object.fromEntries(
      ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((level) => [level, (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg })]),
    );
    const tracker = new PartitionOffsets('t', 0);
    tracker.track(0);
    let settled = 0;
    let unassigned = 0;
    const native = { assignmentLost: () => true, rebalanceProtocol: () => 'EAGER', unassign: () => unassigned++ };
    const host = {
      native: native as never,
      disconnecting: false,
      partitions: new Map([[0, tracker]]),
      track: () => tracker,
      retire: (t: InstanceType<typeof PartitionOffsets>) => void (t.retired = true),
      settleRevoked: async () => void settled++,
      lostReason: () => 'Application maximum poll interval (6000ms) exceeded by 12ms',
    };
    const stats = { fetched: 0, yielded: 0, acked: 0, commits: 0, commitErrors: 0, lastCommitMs: 0, decodeErrors: 0, deadLettered: 0, assigned: 0, revoked: 0, stale: 0, capped: 0 };
    const failures: unknown[] = [];
    const rebalancer = new Rebalancer(host, 't', resolveTopicOptions({}), stats, log as never, new Set(), (e) => failures.push(e));
    rebalancer.callback({ code: -174 } as never, [{ topic: 't', partition: 0 }]);
    await rebalancer.settled();
    expect(failures).toEqual([]);
    expect(settled).toBe(0);
    expect(unassigned).toBe(1);
    expect(tracker.retired).toBe(true);
    expect(stats.revoked).toBe(1);
    const warn = lines.filter((l) => l.level === 'warn');
    expect(warn).toHaveLength(1);
    expect(warn[0]!.msg).toContain('group membership lost');
    expect(warn[0]!.fields).toMatchObject({ partitions: [0], unacked: 1, reason: 'Application maximum poll interval (6000ms) exceeded by 12ms' });
  });
});
