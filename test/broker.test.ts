// The local broker (test/broker/broker.mjs) is a real Kafka: the raw Confluent client can
// create a topic, produce to it with delivery reports and consume every message back.
import { createRequire } from 'node:module';
import { describe, expect, onTestFinished, test } from 'vitest';
import { startBroker } from './broker/broker.mjs';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';

// The client @snoopy/kafka is built on, resolved through that package's dependencies.
const require = createRequire(new URL('../packages/kafka/package.json', import.meta.url));
const Kafka = require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');

type Producer = InstanceType<typeof Kafka.Producer>;
type Consumer = InstanceType<typeof Kafka.KafkaConsumer>;

const servers = bootstrapServers();

function cb<T = void>(fn: (done: (err: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((ok, fail) => fn((err, value) => (err ? fail(err) : ok(value as T))));
}

async function createTopic(brokers: string, topic: string, partitions: number): Promise<() => Promise<void>> {
  const admin = Kafka.AdminClient.create({ 'bootstrap.servers': brokers });
  await cb((done) => admin.createTopic({ topic, num_partitions: partitions, replication_factor: 1 }, 15_000, done));
  return async () => {
    await cb((done) => admin.deleteTopic(topic, 15_000, done)).catch(() => {});
    admin.disconnect();
  };
}

async function connectProducer(brokers: string): Promise<Producer> {
  const producer = new Kafka.Producer({ 'bootstrap.servers': brokers, dr_cb: true, 'linger.ms': 5 });
  await cb((done) => producer.connect({ timeout: 15_000 }, done));
  producer.setPollInterval(20);
  return producer;
}

/** Produces `values` and resolves when every delivery report came back without error. */
function produceAll(producer: Producer, topic: string, values: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    let pending = values.length;
    const onReport = (err: unknown) => {
      if (err) fail(err);
      else if (--pending === 0) {
        producer.off('delivery-report', onReport);
        ok();
      }
    };
    producer.on('delivery-report', onReport);
    values.forEach((value, i) => producer.produce(topic, null, Buffer.from(value), `k${i % 7}`));
  });
}

async function connectConsumer(brokers: string, topic: string): Promise<Consumer> {
  const consumer = new Kafka.KafkaConsumer(
    { 'bootstrap.servers': brokers, 'group.id': randomName('broker-test-group'), 'enable.auto.commit': false },
    { 'auto.offset.reset': 'earliest' },
  );
  await cb((done) => consumer.connect({ timeout: 15_000 }, done));
  consumer.subscribe([topic]);
  return consumer;
}

/** Consumes until `count` messages came back (bounded by `timeoutMs`). */
async function consumeAll(consumer: Consumer, count: number, timeoutMs = 30_000): Promise<string[]> {
  const values: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (values.length < count && Date.now() < deadline) {
    const batch = await cb<Kafka.Message[]>((done) => consumer.consume(500, done));
    for (const m of batch) values.push(m.value?.toString() ?? '');
  }
  return values;
}

function close(client: Producer | Consumer): Promise<void> {
  return new Promise((ok) => client.disconnect(() => ok()));
}

describe.skipIf(!servers)('local Kafka broker', () => {
  test('accepts produce and consume with the raw Confluent client', async () => {
    const brokers = servers!;
    const topic = randomName('broker-test');
    onTestFinished(await createTopic(brokers, topic, 3));

    const producer = await connectProducer(brokers);
    onTestFinished(() => close(producer));
    const sent = Array.from({ length: 300 }, (_, i) => `message-${i}`);
    await produceAll(producer, topic, sent);

    const consumer = await connectConsumer(brokers, topic);
    onTestFinished(() => close(consumer));
    const received = await consumeAll(consumer, sent.length);

    expect(received.sort()).toEqual([...sent].sort());
  });

  test('restart() brings the broker back on the same port with its data', async () => {
    const broker = await startBroker();
    onTestFinished(() => broker.stop());
    const topic = randomName('broker-restart');

    const before = await connectProducer(broker.bootstrapServers);
    await produceAll(before, topic, ['before-restart']);
    await close(before);

    const pid = broker.pid;
    await broker.restart();
    expect(broker.pid).not.toBe(pid);
    expect(broker.isRunning()).toBe(true);

    const after = await connectProducer(broker.bootstrapServers);
    onTestFinished(() => close(after));
    await produceAll(after, topic, ['after-restart']);
    const consumer = await connectConsumer(broker.bootstrapServers, topic);
    onTestFinished(() => close(consumer));
    expect(await consumeAll(consumer, 2)).toEqual(['before-restart', 'after-restart']);

    await broker.stop();
    expect(broker.isRunning()).toBe(false);
  });
});
