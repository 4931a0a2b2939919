// snoopy topics, produce, tail and lag against the real test broker.
import { ack } from '@snoopy/core';
import { Topic } from '@snoopy/kafka';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bootstrapServers, randomName } from '../../../test/setup/kafka-helpers.js';
import { snoopy } from './io.js';

const servers = bootstrapServers();
const env = { KAFKA_BOOTSTRAP_SERVERS: servers ?? '' };

const orders = [
  { id: 1, customer: 'ann', total: 50 },
  { id: 2, customer: 'bob', total: 150 },
  { id: 3, customer: 'ann', total: 250 },
  { id: 4, customer: 'cyd', total: 20 },
];
const ndjson = `${orders.map((o) => JSON.stringify(o)).join('\n')}\n\n`;

async function created(partitions = 1): Promise<string> {
  const name = randomName('cli');
  const ran = await snoopy(['topics', 'create', name, '--partitions', String(partitions)], { env });
  expect(ran, ran.stderr).toMatchObject({ code: 0 });
  expect(ran.stdout.trim()).toBe(`created ${name} (${partitions} partitions)`);
  return name;
}

describe.skipIf(!servers)('snoopy Kafka commands', () => {
  it('topics create, list and describe', async () => {
    const name = await created(3);
    const again = await snoopy(['topics', 'create', name, '--partitions', '3'], { env });
    expect(again.stdout.trim()).toBe(`${name} already exists`);

    const list = await snoopy(['topics'], { env });
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')).toContain(name);
    expect(list.stdout).not.toContain('__consumer_offsets');

    await snoopy(['produce', name, '--key-field', 'customer'], { env, stdin: ndjson });
    const described = await snoopy(['topics', 'describe', name, '--json'], { env });
    expect(described.code, described.stderr).toBe(0);
    const { topic, partitions } = JSON.parse(described.stdout) as { topic: string; partitions: { partition: number; low: number; high: number }[] };
    expect(topic).toBe(name);
    expect(partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(partitions.reduce((n, p) => n + p.high - p.low, 0)).toBe(4);
    const text = await snoopy(['topics', 'describe', name], { env });
    expect(text.stdout.split('\n')[0]).toBe(`${name}: 3 partitions, 4 messages`);
  });

  it('produce from NDJSON with keys, then tail decodes them with keys, filters and limits', async () => {
    const name = await created();
    const produced = await snoopy(['produce', name, '--key-field', 'customer'], { env, stdin: ndjson });
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr.trim()).toBe(`delivered 4 messages to ${name}`);

    const all = await snoopy(['tail', name, '--from', 'earliest', '--exit', '--key'], { env });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.trim().split('\n')).toEqual(orders.map((o) => `${o.customer}\t${JSON.stringify(o)}`));

    const rich = await snoopy(['tail', name, '--from', 'earliest', '--exit', '--ndjson', '--where', 'customer=ann', '--where', 'total>100'], { env });
    const lines = rich.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([{ topic: name, key: 'ann', value: orders[2], partition: 0, offset: 2, timestamp: expect.any(Number), headers: {} }]);

    const limited = await snoopy(['tail', name, '--from', '1', '--limit', '2'], { env });
    expect(limited.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([2, 3]);

    const asText = await snoopy(['tail', name, '--from', 'earliest', '--exit', '--codec', 'string', '--limit', '1'], { env });
    expect(asText.stdout.trim()).toBe(JSON.stringify(orders[0]));

    // From a time: everything was produced after the epoch, nothing after the far future.
    const since = await snoopy(['tail', name, '--from', '1970-01-02T00:00:00Z', '--exit'], { env });
    expect(since.stdout.trim().split('\n')).toHaveLength(4);
    const future = await snoopy(['tail', name, '--from', '2999-01-01T00:00:00Z', '--exit'], { env });
    expect(future).toMatchObject({ code: 0, stdout: '' });
  });

  it('tail follows new messages until --limit', async () => {
    const name = await created();
    const following = snoopy(['tail', name, '--limit', '2'], { env }); // from latest
    // The tail has started once its consumer is assigned; produce until it has seen two messages.
    const producer = Topic<{ n: number }>(name, { 'bootstrap.servers': servers! });
    onTestFinished(() => producer.close());
    let n = 0;
    let done = false;
    void following.finally(() => { done = true; });
    const deadline = Date.now() + 60_000;
    while (!done && Date.now() < deadline) {
      await producer({ n: n++ });
      await new Promise((r) => setTimeout(r, 200));
    }
    const ran = await following;
    expect(ran.code).toBe(0);
    const seen = ran.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { n: number }).n);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]! + 1);
  });

  it('tail prints undecodable messages as one line on stderr with the code and goes on', async () => {
    const name = await created();
    const raw = Topic<string>(name, { 'bootstrap.servers': servers! }, { codec: { name: 'raw', encode: (s: string) => Buffer.from(s), decode: (b) => b.toString() } });
    onTestFinished(() => raw.close());
    await raw('{"ok":1}');
    await raw('not json');
    await raw('{"ok":2}');
    const ran = await snoopy(['tail', name, '--from', 'earliest', '--exit'], { env });
    expect(ran.code).toBe(0);
    expect(ran.stdout.trim().split('\n')).toEqual(['{"ok":1}', '{"ok":2}']);
    expect(ran.stderr.trim().split('\n')).toHaveLength(1);
    expect(ran.stderr).toMatch(new RegExp(`^snoopy tail: SNOOPY_CODEC_DECODE at ${name}/0@1: `));
  });

  it('lag shows committed, end and lag per partition of a group', async () => {
    const name = await created(2);
    const group = randomName('cli-group');
    await snoopy(['produce', name, '--key-field', 'id'], { env, stdin: ndjson });
    const consumer = Topic<unknown>(name, { 'bootstrap.servers': servers!, 'group.id': group }, { offset: 'earliest', commitIntervalMs: 100 });
    let seen = 0;
    for await (const msg of consumer) {
      consumer[ack](msg);
      if (++seen === 3) break; // commits what was acknowledged and leaves the group
    }
    await consumer.close();

    const ran = await snoopy(['lag', group, '--json'], { env });
    expect(ran.code, ran.stderr).toBe(0);
    const rows = ran.stdout.trim().split('\n').map((l) => JSON.parse(l) as { group: string; topic: string; partition: number; committed: number | null; end: number; lag: number });
    expect(rows.every((r) => r.group === group && r.topic === name)).toBe(true);
    expect(rows.reduce((n, r) => n + r.end, 0)).toBe(4);
    expect(rows.reduce((n, r) => n + r.lag, 0)).toBe(1);
    expect(rows.map((r) => r.partition)).toEqual([0, 1]);
    for (const r of rows) expect(r.lag).toBe(r.end - (r.committed ?? 0));

    const text = await snoopy(['lag', group], { env });
    expect(text.stdout.trim().split('\n').at(-1)).toBe('total lag 1');
  });

  it('produce stops at a line that is not JSON (SNOOPY_CLI_INPUT) after delivering the lines before it', async () => {
    const name = await created();
    await expect(snoopy(['produce', name], { env, stdin: '{"a":1}\n{"a":2}\n{oops\n{"a":4}\n' })).rejects.toMatchObject({
      code: 'SNOOPY_CLI_INPUT',
      message: 'stdin line 3 is not JSON',
    });
    const ran = await snoopy(['tail', name, '--from', 'earliest', '--exit'], { env });
    expect(ran.stdout.trim().split('\n')).toEqual(['{"a":1}', '{"a":2}']);
    await expect(snoopy(['produce', name, '--key-field', 'id'], { env, stdin: '{"a":1}\n' })).rejects.toMatchObject({ code: 'SNOOPY_CLI_INPUT' });
  });

  it('an unreachable broker or a missing topic is SNOOPY_CLI_KAFKA (exit code 1 from the bin)', async () => {
    const nowhere = { KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1' };
    await expect(snoopy(['topics', '--timeout', '1500'], { env: nowhere })).rejects.toMatchObject({ code: 'SNOOPY_CLI_KAFKA', message: 'Could not reach the Kafka brokers at 127.0.0.1:1' });
    await expect(snoopy(['tail', randomName('missing'), '--exit'], { env })).rejects.toMatchObject({ code: 'SNOOPY_CLI_KAFKA' });
  });
});
