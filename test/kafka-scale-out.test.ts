// Scale-out: two, then three workers in one group split the partitions; a worker that leaves
// hands its partitions over; nothing is lost. Inputs are fed in rounds until each joining worker
// has had work, so the outcome does not depend on how fast a group rebalances.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Topic } from '../packages/kafka/src/index.js';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';
import { Collector, buildPackages, killAll, produceInputs, startWorker } from './fixtures/kafka-worker/harness.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('scale-out in one group', () => {
  beforeAll(() => buildPackages(), 180_000);
  afterEach(() => killAll());
  afterAll(() => killAll());

  test('workers joining and leaving share the work and lose nothing', { timeout: 240_000 }, async () => {
    const config = { 'bootstrap.servers': servers! };
    const input = randomName('scale-in');
    const output = randomName('scale-out');
    await using inTopic = Topic(input, config);
    await using outTopic = Topic(output, config);
    await inTopic.create({ partitions: 6 });
    await outTopic.create({ partitions: 6 });

    const results = new Collector(output, { ...config, 'group.id': randomName('verify') });
    let produced = 0;
    const feed = async (count: number): Promise<void> => {
      await produceInputs(input, config, produced + count, undefined, produced);
      produced += count;
    };
    /** Produces rounds of inputs until `check()` holds (each round is processed first). */
    const feedUntil = async (check: () => boolean, what: string): Promise<void> => {
      for (let round = 0; !check(); round++) {
        if (round === 20) throw new Error(`${what} did not happen within 20 rounds of 300 inputs`);
        await feed(300);
        await results.until(() => check() || results.distinct >= produced, `round ${round + 1} of inputs while waiting until ${what}`, 40_000);
      }
    };
    const did = (worker: string) => () => (results.workers.get(worker) ?? 0) > 0;
    try {
      const env = { KAFKA_BOOTSTRAP_SERVERS: servers!, INPUT: input, OUTPUT: output, GROUP: randomName('g'), DELAY_MS: '10', CONCURRENCY: '2' };
      const w1 = startWorker({ ...env, WORKER_ID: 'w1' });
      const w2 = startWorker({ ...env, WORKER_ID: 'w2' });
      await feedUntil(() => did('w1')() && did('w2')(), 'w1 and w2 both had work');
      const w3 = startWorker({ ...env, WORKER_ID: 'w3' });
      await feedUntil(did('w3'), 'w3 had work');
      expect([w1, w2, w3].map((w) => w.child.exitCode)).toEqual([null, null, null]);

      // w1 leaves gracefully: it finishes, commits, and its partitions go to w2 and w3.
      w1.child.kill('SIGTERM');
      expect(await w1.exited, w1.tail()).toBe(0);
      const afterLeave = results.total;
      await feed(600);
      await Promise.race([results.until(() => results.distinct === produced, `all ${produced} results after w1 left`, 60_000), w2.exited, w3.exited]);
      expect(results.distinct, `${w2.tail()}\n${w3.tail()}`).toBe(produced);
      expect(results.total).toBeGreaterThan(afterLeave);

      for (const w of [w2, w3]) w.child.kill('SIGTERM');
      expect(await w2.exited, w2.tail()).toBe(0);
      expect(await w3.exited, w3.tail()).toBe(0);
      for (let id = 0; id < produced; id++) expect(results.counts.has(id)).toBe(true);
      console.log(`scale-out: ${produced} inputs, ${results.total} results (${results.duplicates} duplicates), by worker`, Object.fromEntries(results.workers));
      expect([...results.workers.keys()].sort()).toEqual(['w1', 'w2', 'w3']);
      // Nobody crashed: revocations and the leaver's close committed exactly what was processed.
      expect(results.duplicates).toBe(0);
    } finally {
      await results.close();
    }
  });
});
