// One logger given once (setRootLogger) reaches every component, also those made before it was
// given: here a Kafka consumer made first, on the real broker. Each JSON key once per line.
import { pino } from 'pino';
import { ack, rootLogger, setRootLogger } from '@snoopy/core';
import { Topic } from '@snoopy/kafka';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bootstrapServers, randomName } from './setup/kafka-helpers.js';

const servers = bootstrapServers();

function duplicateKeys(line: string): string[] {
  const keys = [...line.matchAll(/"([^"\\]+)":/g)].map((m) => m[1]!);
  // Only top-level keys matter; nested objects are rare in these lines and named differently.
  return keys.filter((k, i) => keys.indexOf(k) !== i);
}

describe.skipIf(!servers)('setRootLogger', () => {
  it('reaches a Kafka consumer made before it, with each key once per line', async () => {
    const name = randomName('logger');
    const topic = Topic<number>(name, { 'bootstrap.servers': servers!, 'group.id': randomName('logger-group') }, { offset: 'earliest' });
    onTestFinished(() => topic.close());
    await topic.create({ partitions: 1 });
    await topic(1);

    const raw: string[] = [];
    setRootLogger(pino({ level: 'info' }, { write: (line: string) => void raw.push(line) }));
    onTestFinished(() => setRootLogger(undefined));
    rootLogger().child({ component: 'test' }).info('given');

    for await (const msg of topic) {
      topic[ack](msg);
      break;
    }
    await topic.close();

    const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ component: 'test', msg: 'given' });
    const consumerLines = lines.filter((l) => l.topic === name);
    expect(consumerLines.length, raw.join('')).toBeGreaterThan(0);
    expect(consumerLines.some((l) => l.msg === 'partitions assigned')).toBe(true);
    for (const line of raw) expect(duplicateKeys(line), line).toEqual([]);
  });
});
