// Offset commits (commit.ts) count only when the broker accepted them; failures are counted,
// retried and, when they persist, surfaced as SNOOPY_KAFKA_COMMIT.
import { EventEmitter } from 'node:events';
import { rootLogger } from '@snoopy/core';
import { describe, expect, test } from 'vitest';
import { COMMIT_ATTEMPTS, OffsetCommitter } from '../src/commit.js';
import { PartitionOffsets } from '../src/offsets.js';
import { Topic, type KafkaMessage } from '../src/index.js';
import { bootstrapServers, closing, randomName, take } from './helpers.js';

const servers = bootstrapServers();
const quiet = rootLogger().child({}, { level: 'silent' });

function stats() {
  return { fetched: 0, yielded: 0, acked: 0, commits: 0, commitErrors: 0, lastCommitMs: 0, decodeErrors: 0, deadLettered: 0, assigned: 0, revoked: 0, stale: 0, capped: 0 };
}

describe.skipIf(!servers)('commits on a real broker', () => {
  const base = () => ({ 'bootstrap.servers': servers! });

  test('a commit counts once the broker has it: a new member of the group starts after it', async () => {
    const name = randomName('commit');
    const producer = closing(Topic<number>(name, base()));
    await producer.create({ partitions: 2 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send(i, { partition: i % 2 })));
    const group = randomName('g');
    const first = closing(Topic<number>(name, { ...base(), 'group.id': group }, { commitIntervalMs: 100 }));
    await take(first, 20);
    expect(first.stats.commits).toBeGreaterThan(0);
    expect(first.stats.commitErrors).toBe(0);
    // Whole milliseconds (a fraction would change the shape of the counters' object mid-run).
    expect(Number.isInteger(first.stats.lastCommitMs)).toBe(true);
    await Promise.all([100, 101].map((v, i) => producer.send(v, { partition: i })));
    const second = closing(Topic<number>(name, { ...base(), 'group.id': group }));
    const got = (await take(second, 2)).map((m) => (m as KafkaMessage<number>).value);
    expect(got.sort()).toEqual([100, 101]);
  });
});

/**
 * A fake of the native consumer's commit surface, for the one failure a test cannot cause on a
 * healthy single broker on demand: the broker refusing commits (the real-broker test above
 * covers the accepted path through the same code).
 */
class RefusingConsumer extends EventEmitter {
  calls = 0;
  constructor(
    private readonly refusals: number,
    private readonly kafkaCode = 25,
  ) {
    super();
  }
  committer?: OffsetCommitter;
  commit(offsets: Array<{ partition: number; offset: number }>): void {
    this.calls++;
    const refuse = this.calls <= this.refusals;
    // librdkafka answers through offset_commit_cb later, on a poll.
    setImmediate(() => this.committer!.result(refuse ? Object.assign(new Error('Broker: refused'), { code: this.kafkaCode }) as never : undefined, offsets));
  }
}

describe('commit failures (the broker refusing, faked)', () => {
  function tracker(): PartitionOffsets {
    const t = new PartitionOffsets('t', 0);
    t.track(0);
    t.track(1);
    t.ack(0);
    t.ack(1);
    return t;
  }

  test('a refused commit is counted and retried; the offsets count as committed only once accepted', async () => {
    const native = new RefusingConsumer(1);
    const s = stats();
    const committer = new OffsetCommitter(native as never, 't', s, quiet);
    native.committer = committer;
    const t = tracker();
    expect(await committer.commit([t])).toBe(false);
    expect(s).toMatchObject({ commits: 0, commitErrors: 1 });
    expect(t.committed).toBeUndefined();
    expect(t.dirty).toBe(true);
    expect(await committer.commit([t])).toBe(true);
    expect(s).toMatchObject({ commits: 1, commitErrors: 1 });
    expect(t.committed).toBe(2);
  });

  test(`${COMMIT_ATTEMPTS} refusals in a row reject with SNOOPY_KAFKA_COMMIT naming topic and partitions`, async () => {
    const native = new RefusingConsumer(Infinity);
    const s = stats();
    const committer = new OffsetCommitter(native as never, 't', s, quiet);
    native.committer = committer;
    const t = tracker();
    for (let i = 1; i < COMMIT_ATTEMPTS; i++) expect(await committer.commit([t])).toBe(false);
    const error = await committer.commit([t]).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'SNOOPY_KAFKA_COMMIT', kafkaCode: 25, retriable: true });
    expect((error as Error).message).toContain('topic t partitions 0');
    expect(s.commitErrors).toBe(COMMIT_ATTEMPTS);
  });

  test('refusals while the group rebalances (illegal generation) are counted and retried, never fatal', async () => {
    const native = new RefusingConsumer(COMMIT_ATTEMPTS + 2, 22);
    const s = stats();
    const committer = new OffsetCommitter(native as never, 't', s, quiet);
    native.committer = committer;
    const t = tracker();
    for (let i = 0; i < COMMIT_ATTEMPTS + 2; i++) expect(await committer.commit([t])).toBe(false);
    expect(await committer.commit([t])).toBe(true);
    expect(s).toMatchObject({ commits: 1, commitErrors: COMMIT_ATTEMPTS + 2 });
  });
});
