// Broker restart mid-stream: a worker keeps going across a restart of its (own) broker; every
// input gets its result.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startBroker, type Broker } from './broker/broker.mjs';
import { Topic } from '../packages/kafka/src/index.js';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { Collector, buildPackages, killAll, produceInputs, startWorker } from './fixtures/kafka-worker/harness.js';

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
      const worker = startWorker({ KAFKA_BOOTSTRAP_SERVERS: broker.bootstrapServers, INPUT: input, OUTPUT: output, GROUP: randomName('g'), DELAY_MS: '5', CONCURRENCY: '4' });
      await Promise.race([results.until(() => results.distinct >= 600, '600 results before the restart', 60_000), worker.exited]);
      expect(worker.child.exitCode, worker.tail()).toBeNull();
      await broker.restart({ downMs: 2000 });
      expect(results.distinct).toBeLessThan(n);
      await Promise.race([results.until(() => results.distinct === n, `all ${n} results after the restart`, 120_000), worker.exited]);
      expect(results.distinct, worker.tail()).toBe(n);
      expect(worker.child.exitCode, worker.tail()).toBeNull();
      worker.child.kill('SIGTERM');
      expect(await worker.exited, worker.tail()).toBe(0);
      console.log(`broker restart: ${n} inputs, ${results.total} results (${results.duplicates} duplicates)`);
      // Commits that fail while the broker is down are retried once it is back; the worker keeps
      // its partitions (the outage is shorter than session.timeout.ms), so at most the messages of
      // a few commit intervals run twice: 2 s down at the worker's top rate (CONCURRENCY / DELAY_MS
      // = 800 messages/s) and a second more.
      expect(results.duplicates).toBeLessThanOrEqual(2400);
    } finally {
      await results.close();
    }
  });
});
