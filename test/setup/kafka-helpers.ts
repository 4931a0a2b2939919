// Helpers for suites that need the real broker started by test/setup/kafka.ts.
//
//   const servers = bootstrapServers();
//   describe.skipIf(!servers)('Topic', () => { ... randomName('orders') ... });
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** A fresh name for a topic, group or transactional id: `<prefix>-<time>-<random>`. */
export function randomName(prefix = 'snoopy'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * The broker for this run (`host:port[,...]`), or undefined when there is none, so that the
 * suite can skip. With CI=true there must be one: this throws instead, so a Kafka suite that
 * would be skipped fails.
 */
export function bootstrapServers(): string | undefined {
  const servers = process.env.KAFKA_BOOTSTRAP_SERVERS || inject('kafkaBootstrapServers');
  if (servers) return servers;
  if (process.env.CI === 'true') {
    const why = inject('kafkaBrokerError') ?? 'test/setup/kafka.ts did not run';
    throw new Error(`CI=true and no Kafka broker is available, so this Kafka suite fails instead of skipping: ${why}`);
  }
  return undefined;
}

/** Like bootstrapServers(), for code that cannot go on without a broker. */
export function requireBootstrapServers(): string {
  const servers = bootstrapServers();
  if (!servers) {
    throw new Error('No Kafka broker: set KAFKA_BOOTSTRAP_SERVERS or let test/setup/kafka.ts start one (needs Java 17+ and Maven).');
  }
  return servers;
}
