// Broker restart mid-stream: a worker keeps going across a restart of its (own) broker; every
// input gets its result.
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startBroker, type Broker } from './broker/broker.mjs';
import { Topic } from '../packages/kafka/src/index.js';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { Collector, buildPackages, killAll, produceInputs, startWorker } from './fixtures/kafka-worker/harness.js';

// The client @snoopy/kafka is built on, resolved through that package's dependencies.
const require = createRequire(new URL('../packages/kafka/package.json', import.meta.url));
const Confluent = require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');

/** How many messages of `topic` the group has committed (a fresh topic: offset = count), without joining it. */
async function committedCount(servers: string, group: string, topic: string, partitions: number): Promise<number> {
  const c = new Confluent.KafkaConsumer({ 'bootstrap.servers': servers, 'group.id': group }, {});
  await new Promise<void>((ok, fail) => c.connect({ timeout: 15_000 }, (err) => (err ? fail(err) : ok())));
  try {
    const all = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    const offsets = await new Promise<Array<{ offset?: number }>>((ok, fail) => c.committed(all, 10_000, (err, tps) => (err ? fail(err) : ok(tps))));
    return offsets.reduce((sum, tp) => sum + Math.max(0, tp.offset ?? 0), 0);
  } finally {
    await new Promise<void>((ok) => c.disconnect(() => ok()));
  }
}

// Needs Java like the shared broker; it starts its own so that restarting it disturbs no other suite.
const servers = bootstrapServers();

describe.skipIf(!servers)('broker restart mid-stream', () => {
  let broker: Broker;
  beforeAll(async () => {
    buildPackages();
    broker = await startBroker({ partitions: 4 });
  }, 180_000);
  afterEach(() => killAll());
  afterAll(async () => {
    await killAll();
    await broker?.stop();
  });

  test('the worker resumes after the restart; nothing is lost', { timeout: 240_000 }, async () => {
    const config = { 'bootstrap.servers': broker.bootstrapServers };
    const input = randomName('restart-in');
    const output = randomName('restart-out');
    await using inTopic = Topic(input, config);
    await using outTopic = Topic(output, config);
    await inTopic.create({ partitions: 4 });
    await outTopic.create({ partitions: 4 });
    const n = 3000;
    await produceInputs(input, config, n);

    const results = new Collector(output, { ...config, 'group.id': randomName('verify') });
    try {
      const group = randomName('g');
      const worker = startWorker({ KAFKA_BOOTSTRAP_SERVERS: broker.bootstrapServers, INPUT: input, OUTPUT: output, GROUP: group, DELAY_MS: '5', CONCURRENCY: '4' });
      await Promise.race([results.until(() => results.distinct >= 600, '600 results before the restart', 60_000), worker.exited]);
      expect(worker.child.exitCode, worker.tail()).toBeNull();
      // Nothing below the group's commits may run again: at most the rest can be duplicated.
      const committed = await committedCount(broker.bootstrapServers, group, input, 4);
      expect(committed).toBeGreaterThan(0);
      await broker.restart({ downMs: 2000 });
      expect(results.distinct).toBeLessThan(n);
      await Promise.race([results.until(() => results.distinct === n, `all ${n} results after the restart`, 120_000), worker.exited]);
      expect(results.distinct, worker.tail()).toBe(n);
      expect(worker.child.exitCode, worker.tail()).toBeNull();
      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.tail()).toBe(0);
      console.log(`broker restart: ${n} inputs, ${results.total} results (${results.duplicates} duplicates; ${committed} committed before the restart)`);
      // At-least-once: what the group committed before the outage never runs again; what came
      // after may (the coordinator's restart can cost the membership, and the worker went on
      // handling messages it could not commit for the whole outage, ~5-7 s with the broker's start).
      expect(results.duplicates).toBeLessThanOrEqual(n - committed);
    } finally {
      await results.close();
    }
  });
});
