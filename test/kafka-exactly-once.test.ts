// Exactly-once under crashes: the same worker in MODE=eos (consume-transform-produce in Kafka
// transactions) is SIGKILLed mid-stream several times; the output read with read_committed holds
// each result exactly once.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Topic } from '../packages/kafka/src/index.js';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { Collector, buildPackages, killAll, produceInputs, startWorker, type Result } from './fixtures/kafka-worker/harness.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('exactly-once under SIGKILL', () => {
  beforeAll(() => buildPackages(), 180_000);
  afterEach(() => killAll());
  afterAll(() => killAll());

  test('read_committed output holds every result exactly once after repeated crashes', { timeout: 330_000 }, async () => {
    const config = { 'bootstrap.servers': servers! };
    const input = randomName('eos-in');
    const output = randomName('eos-out');
    const group = randomName('eos-group');
    await using inTopic = Topic(input, config);
    await using outTopic = Topic<Result>(output, { ...config, 'isolation.level': 'read_committed' });
    await inTopic.create({ partitions: 4 });
    await outTopic.create({ partitions: 4 });
    const n = 2000;
    await produceInputs(input, config, n);

    const results = new Collector(output, { ...config, 'group.id': randomName('verify'), 'isolation.level': 'read_committed' });
    try {
      // One worker slot: each restart reuses its transactional.id, which fences and aborts the
      // killed predecessor's open transaction. OFFSET=earliest, as a user would set
      // auto.offset.reset: it must not rewind a restart past the offsets committed in the
      // transactions (that produced over a thousand duplicates here).
      const env = { KAFKA_BOOTSTRAP_SERVERS: servers!, INPUT: input, OUTPUT: output, GROUP: group, MODE: 'eos', OFFSET: 'earliest', WORKER_ID: 'w0', DELAY_MS: '4', CONCURRENCY: '4', COMMIT_MS: '300' };
      let kills = 0;
      for (let round = 0; round < 4; round++) {
        const worker = startWorker(env);
        const target = Math.min(results.distinct + 200, n - 200);
        await Promise.race([results.until(() => results.distinct >= target, `${target} results before kill ${round + 1}`, 45_000), worker.exited]);
        expect(worker.child.exitCode, worker.tail()).toBeNull();
        worker.child.kill('SIGKILL');
        await worker.exited;
        kills++;
      }
      expect(results.distinct).toBeLessThan(n);

      const last = startWorker(env);
      await Promise.race([results.until(() => results.distinct === n, `all ${n} results after the last restart`, 90_000), last.exited]);
      expect(results.distinct, last.tail()).toBe(n);
      last.child.kill('SIGTERM');
      expect(await last.exited, last.tail()).toBe(0);

      // Everything committed is in the topic now: read it all, read_committed, partition by partition.
      const counts = new Map<number, number>();
      let total = 0;
      for (let partition = 0; partition < 4; partition++) {
        for await (const m of outTopic.read({ partition })) {
          counts.set(m.value.id, (counts.get(m.value.id) ?? 0) + 1);
          total++;
        }
      }
      console.log(`exactly-once: ${n} inputs, ${total} committed results after ${kills} kills`);
      expect(counts.size).toBe(n);
      expect([...counts.values()].filter((c) => c !== 1)).toEqual([]);
      expect(total).toBe(n);
    } finally {
      await results.close();
    }
  });
});
