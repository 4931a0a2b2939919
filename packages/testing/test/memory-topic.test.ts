import { ClosedError, FailedItem, Registry, ack, describe as describeSymbol, type DeadLetter } from '@snoopy/core';
import { describe, expect, it } from 'vitest';
import { MemoryTopic, partitionForKey, type MemoryMessage } from '@snoopy/testing';

const json = { encode: (v: unknown) => Buffer.from(JSON.stringify(v)), decode: (b: Buffer) => JSON.parse(b.toString()) as unknown };

describe('MemoryTopic', () => {
  it('produces like a Topic: values, [key, value] pairs and send() with headers, with offsets per partition', async () => {
    const topic = MemoryTopic<{ id: number }>('orders', { partitions: 3 });
    const a = await topic(['ann', { id: 1 }]);
    const b = await topic.send({ id: 2 }, { key: 'ann', headers: { origin: 'test' } });
    const c = await topic.send({ id: 3 }, { partition: 2 });
    expect(a).toEqual({ topic: 'orders', partition: partitionForKey(Buffer.from('ann'), 3), offset: 0 });
    expect(b).toEqual({ ...a, offset: 1 });
    expect(c).toEqual({ topic: 'orders', partition: 2, offset: topic.end(2) - 1 });
    expect(topic.values()).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(topic.messages(a.partition)[1]!.headers.origin!.toString()).toBe('test');
    await expect(topic.send({ id: 4 }, { partition: 3 })).rejects.toMatchObject({ code: 'SNOOPY_OPTIONS_INVALID' });
  });

  it('stores a copy, as a broker would', async () => {
    const topic = MemoryTopic<{ n: number }>('copies');
    const value = { n: 1 };
    await topic(value);
    value.n = 2;
    expect(topic.values()).toEqual([{ n: 1 }]);
  });

  it('consumes in order of production and commits the contiguous prefix of acknowledged messages', async () => {
    const topic = MemoryTopic<number>('numbers', { partitions: 2 });
    for (let i = 0; i < 6; i++) await topic.send(i, { partition: i % 2 });
    const seen: MemoryMessage<number>[] = [];
    for await (const msg of topic) seen.push(msg as MemoryMessage<number>);
    expect(seen.map((m) => m.value)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen.map((m) => [m.partition, m.offset])).toEqual([[0, 0], [1, 0], [0, 1], [1, 1], [0, 2], [1, 2]]);

    topic[ack](seen[2]!); // partition 0 offset 1: offset 0 is not done, so nothing is committed
    expect(topic.committed(0)).toBeUndefined();
    topic[ack](seen[0]!);
    expect(topic.committed(0)).toBe(2);
    topic[ack](seen[1]!);
    expect(topic.commits).toEqual([{ partition: 0, offset: 2 }, { partition: 1, offset: 1 }]);

    // A new consumer resumes after the commits, like a restarted worker.
    const again: number[] = [];
    for await (const msg of topic) again.push((msg as MemoryMessage<number>).value);
    expect(again).toEqual([3, 4, 5]);
  });

  it('is a source and a deferred sink for stream(), acknowledged when each message is done', async () => {
    const input = MemoryTopic<number>('in', { partitions: 2 });
    const output = MemoryTopic<number, string>('out');
    for (let i = 1; i <= 4; i++) await input([`k${i}`, i]);
    const registry = new Registry();
    registry.snap(input, { sink: [output] })((msg: MemoryMessage<number>) => [msg.key!, msg.value * 10]);
    const summary = await registry.stream({ handleSignals: false, progress: false });
    expect(summary.in).toBe(4);
    expect(output.messages().map((m) => [m.key, m.value])).toEqual([['k1', 10], ['k2', 20], ['k3', 30], ['k4', 40]]);
    for (const p of [0, 1]) expect(input.committed(p) ?? 0).toBe(input.end(p));
  });

  it('yields bytes that do not decode as a FailedItem with SNOOPY_CODEC_DECODE, which reaches the dead letters', async () => {
    const topic = MemoryTopic<{ ok: number }>('poison', { codec: json as never });
    await topic({ ok: 1 });
    topic.sendRaw(Buffer.from('not json'), { key: 'bad' });
    await topic({ ok: 2 });
    const items = [];
    for await (const item of topic) items.push(item);
    expect(items[1]).toBeInstanceOf(FailedItem);
    expect((items[1] as FailedItem).error).toMatchObject({ code: 'SNOOPY_CODEC_DECODE', location: { topic: 'poison', partition: 0, offset: 1, key: 'bad' } });
    expect(topic[describeSymbol](items[0] as never)).toMatchObject({ topic: 'poison', partition: 0, offset: 0 });

    const fresh = MemoryTopic<{ ok: number }>('poison-2', { codec: json as never });
    await fresh({ ok: 1 });
    fresh.sendRaw(Buffer.from('{'));
    const letters: DeadLetter[] = [];
    const registry = new Registry();
    registry.snap(fresh, { errors: { deadLetter: (l: DeadLetter) => letters.push(l) } })((m: MemoryMessage<{ ok: number }>) => m.value.ok);
    await registry.stream({ handleSignals: false, progress: false });
    expect(letters).toHaveLength(1);
    expect(letters[0]!.error.code).toBe('SNOOPY_SOURCE_ITEM');
    expect(fresh.committed(0)).toBe(2); // the dead-lettered message is done too
  });

  it('follows new messages until closed, when asked to', async () => {
    const topic = MemoryTopic<number>('live', { follow: true });
    const got: number[] = [];
    const reading = (async () => {
      for await (const msg of topic) got.push((msg as MemoryMessage<number>).value);
    })();
    await topic(1);
    await topic(2);
    const deadline = Date.now() + 10_000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await topic.close();
    await reading;
    expect(got).toEqual([1, 2]);
  });

  it('close() is idempotent and a send after it fails with SNOOPY_CLOSED', async () => {
    const topic = MemoryTopic('closing');
    await Promise.all([topic.close(), topic.close()]);
    await topic[Symbol.asyncDispose]();
    await expect(topic('x')).rejects.toBeInstanceOf(ClosedError);
    await expect(topic('x')).rejects.toMatchObject({ code: 'SNOOPY_CLOSED' });
  });

  it('refuses bad options at construction', () => {
    expect(() => MemoryTopic('t', { partitions: 0 })).toThrow('MemoryTopic t: Expected `partitions` to be an integer >= 1, got `0` (number)');
    expect(() => MemoryTopic('t', { partiton: 2 } as never)).toThrow(/Unknown option `partiton`/);
    expect(() => MemoryTopic('t', { offset: 'first' } as never)).toThrow(/Expected `offset` to be 'earliest' or 'latest'/);
    expect(() => MemoryTopic('')).toThrow(/Expected `name` to be a non-empty string/);
  });
});
