// A worker that joins a group logs "joining group", and while it has no partition (a restarted
// worker waiting for a rebalance, or more workers than partitions) "waiting for assignment",
// on the real broker.
import { pino } from 'pino';
import { ack, setRootLogger } from '@snoopy/core';
import { Topic } from '@snoopy/kafka';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';

const servers = bootstrapServers();

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!servers)('consumer group lines', () => {
  it('logs joining group, then waiting for assignment while a second worker of the group has no partition', { timeout: 120_000 }, async () => {
    const raw: string[] = [];
    setRootLogger(pino({ level: 'info' }, { write: (line: string) => void raw.push(line) }));
    onTestFinished(() => setRootLogger(undefined));
    const lines = () => raw.map((l) => JSON.parse(l) as Record<string, any>);

    const name = randomName('group-logs');
    const group = randomName('group-logs-g');
    const config = { 'bootstrap.servers': servers!, 'group.id': group };
    const first = Topic<number>(name, config, { offset: 'earliest', commitIntervalMs: 100 });
    onTestFinished(() => first.close());
    await first.create({ partitions: 1 });
    await first(1);
    const firstIt = first[Symbol.asyncIterator]();
    onTestFinished(async () => void (await firstIt.return?.()));
    const msg = await firstIt.next();
    first[ack](msg.value);
    await until('the first worker assigned', () => lines().some((l) => l.topic === name && l.msg === 'partitions assigned'));

    // One partition, already owned: the second worker of the group joins and waits.
    const second = Topic<number>(name, config, { offset: 'earliest', commitIntervalMs: 100 });
    onTestFinished(() => second.close());
    const secondIt = second[Symbol.asyncIterator]();
    const pending = secondIt.next().catch(() => undefined);
    await until('the second worker waiting for assignment', () => lines().filter((l) => l.topic === name && l.msg === 'waiting for assignment').length > 0);

    const ours = lines().filter((l) => l.topic === name);
    const joins = ours.filter((l) => l.msg === 'joining group');
    expect(joins).toHaveLength(2);
    expect(joins[0]).toMatchObject({ level: 30, component: 'consumer', groupId: group });
    const waiting = ours.find((l) => l.msg === 'waiting for assignment')!;
    expect(waiting).toMatchObject({ level: 30, groupId: group });
    expect(waiting.waitingMs).toBeGreaterThanOrEqual(5_000);
    expect(ours.indexOf(waiting)).toBeGreaterThan(ours.indexOf(joins[1]!));

    await second.close();
    await pending;
  });
});
