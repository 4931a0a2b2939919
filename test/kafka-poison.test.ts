// Poison messages: 1% of the inputs are not valid JSON. They go to the dead-letter topic with
// their original bytes and error headers; every valid input is processed; the worker keeps running.
import { BytesCodec } from '@snoopy/codecs';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Topic } from '../packages/kafka/src/index.js';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { Collector, buildPackages, killAll, produceInputs, startWorker } from './fixtures/kafka-worker/harness.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('poison messages', () => {
  beforeAll(() => buildPackages(), 180_000);
  afterEach(() => killAll());
  afterAll(() => killAll());

  test('undecodable inputs are dead-lettered with their error; all valid ones are processed', { timeout: 180_000 }, async () => {
    const config = { 'bootstrap.servers': servers! };
    const input = randomName('poison-in');
    const output = randomName('poison-out');
    const dlq = randomName('poison-dlq');
    await using inTopic = Topic(input, config);
    await using outTopic = Topic(output, config);
    await using dlqTopic = Topic<Buffer>(dlq, config, { codec: new BytesCodec() });
    await inTopic.create({ partitions: 4 });
    await outTopic.create({ partitions: 4 });
    await dlqTopic.create({ partitions: 1 });
    const n = 2000;
    const poison = (id: number): boolean => id % 100 === 37;
    const valid = Array.from({ length: n }, (_, id) => id).filter((id) => !poison(id));
    await produceInputs(input, config, n, poison);

    const results = new Collector(output, { ...config, 'group.id': randomName('verify') });
    try {
      const worker = startWorker({ KAFKA_BOOTSTRAP_SERVERS: servers!, INPUT: input, OUTPUT: output, GROUP: randomName('g'), DLQ: dlq });
      await Promise.race([results.until(() => results.distinct === valid.length, `all ${valid.length} valid results`, 120_000), worker.exited]);
      expect(results.distinct, worker.tail()).toBe(valid.length);
      for (const id of valid) expect(results.counts.has(id)).toBe(true);
      expect(worker.child.exitCode, worker.tail()).toBeNull();
      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.tail()).toBe(0);
      const stopped = JSON.parse(worker.tail().split('\n').find((l) => l.includes('"event":"stopped"'))!);
      expect(stopped.source.deadLettered).toBe(n - valid.length);

      const dead = new Map<number, Record<string, string>>();
      for await (const m of dlqTopic.read({ partition: 0 })) {
        const id = Number(/"id":(\d+)/.exec(m.value.toString())![1]);
        dead.set(id, Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, v.toString()])));
        expect(m.key).toBe(`k${id}`);
      }
      expect([...dead.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, id) => id).filter(poison));
      for (const headers of dead.values()) {
        expect(headers).toMatchObject({ 'snoopy.error.code': 'SNOOPY_CODEC_DECODE', 'snoopy.source.topic': input });
        expect(headers['snoopy.error.message']).toMatch(/invalid JSON/);
        expect(Number(headers['snoopy.source.offset'])).toBeGreaterThanOrEqual(0);
      }
    } finally {
      await results.close();
    }
  });
});
