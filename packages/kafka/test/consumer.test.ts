// The consumer (consumer.ts): what it refuses before it consumes.
import { setRootLogger, type Logger } from '@snoopy/core';
import { afterEach, describe, expect, test } from 'vitest';
import { Topic, type KafkaMessage } from '../src/index.js';
import { bootstrapServers, closing, randomName } from './helpers.js';

const servers = bootstrapServers();

describe.skipIf(!servers)('consumer', () => {
  const base = () => ({ 'bootstrap.servers': servers! });
  afterEach(() => setRootLogger(undefined as never));

  test('with create: false, consuming a topic that does not exist fails with SNOOPY_KAFKA_TOPIC_MISSING and does not create it', async () => {
    const name = randomName('missing');
    const topic = closing(Topic(name, { ...base(), 'group.id': randomName('g') }, { create: false }));
    await expect(topic[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'SNOOPY_KAFKA_TOPIC_MISSING',
      message: expect.stringContaining('create: true'),
    });
    // Still missing: creating it now creates it.
    expect(await closing(Topic(name, base())).create()).toBe(true);
  });

  test('by default a missing topic is logged at warn with SNOOPY_KAFKA_TOPIC_MISSING, then created by the broker', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const make = (): Logger => {
      const noop = () => {};
      return { level: 'info', child: () => make(), trace: noop, debug: noop, info: noop, error: noop, fatal: noop, warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ ...fields, msg }) } as unknown as Logger;
    };
    setRootLogger(make());
    const name = randomName('implicit');
    const topic = closing(Topic<number>(name, { ...base(), 'group.id': randomName('g') }));
    const it = topic[Symbol.asyncIterator]();
    try {
      const first = it.next();
      const deadline = Date.now() + 30_000;
      while (topic.stats.assigned === 0) {
        if (Date.now() > deadline) throw new Error('the consumer was not assigned the broker-created topic within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(warnings).toContainEqual(expect.objectContaining({ code: 'SNOOPY_KAFKA_TOPIC_MISSING', msg: expect.stringContaining('does not exist') }));
      await closing(Topic<number>(name, base()))(3);
      expect(((await first).value as KafkaMessage<number>).value).toBe(3);
    } finally {
      await it.return?.();
    }
  });

  test('create: true creates the topic when consuming starts', async () => {
    const name = randomName('created');
    const topic = closing(Topic<number>(name, { ...base(), 'group.id': randomName('g') }, { create: true }));
    const it = topic[Symbol.asyncIterator]();
    try {
      const first = it.next();
      // Nothing else touches the topic until the consumer has it assigned: the consumer made it.
      const deadline = Date.now() + 30_000;
      while (topic.stats.assigned === 0) {
        if (Date.now() > deadline) throw new Error('the consumer was not assigned the topic it should have created within 30 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await closing(Topic(name, base())).create()).toBe(false);
      await closing(Topic<number>(name, base()))(7);
      expect(((await first).value as KafkaMessage<number>).value).toBe(7);
    } finally {
      await it.return?.();
    }
  });
});
