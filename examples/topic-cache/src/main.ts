// snapstream's second example in TypeScript: messages snapped into a Kafka topic, the topic
// snapped into a cache keyed by each message, and a third snap that waits for each key in the
// cache and prints it.
//
//   export KAFKA_BOOTSTRAP_SERVERS=$(node test/broker/broker.mjs start)
//   npx tsc -b examples/topic-cache && node examples/topic-cache/dist/main.js
import { Cache } from '@snoopy/cache';
import { snap, stream } from '@snoopy/core';
import { Conf, Topic, type KafkaMessage } from '@snoopy/kafka';

const messages = ['🏆', '📞', '🐟', '👌'];

Conf({ 'bootstrap.servers': process.env.KAFKA_BOOTSTRAP_SERVERS ?? 'localhost:9092' });
// `create: true`: the topic may not exist yet when the store snap starts consuming it.
const topic = Topic<string>(process.env.TOPIC ?? 'emoji', { 'group.id': process.env.GROUP ?? 'demo' }, { create: true });
const cache = new Cache<string>(process.env.CACHE_DIR ?? 'db');
const finished = new AbortController();
let printed = 0;

class Demo {
  @snap(messages, { sink: [topic] })
  static produce(msg: string): string {
    return msg;
  }

  @snap(topic, { sink: [cache] })
  static store(msg: KafkaMessage<string>): [string, string] {
    return [msg.value, msg.value];
  }

  @snap(messages)
  static async retrieve(msg: string): Promise<void> {
    console.log(await cache.wait(msg));
    if (++printed === messages.length) finished.abort();
  }
}

const summary = await stream({ signal: finished.signal });
// This program made the topic and the cache, so it closes them.
await topic.close();
await cache.close();
console.error(`${Demo.name}: ${summary.in} in, ${summary.out} out`);
