// Vitest globalSetup: one real Kafka broker for the whole run.
//
// With KAFKA_BOOTSTRAP_SERVERS set, that broker is used and nothing is started. Otherwise the
// local broker (test/broker/broker.mjs) starts once here and stops in teardown. The address goes
// into process.env, which the forked test workers inherit, and into `inject('kafkaBootstrapServers')`.
// SNOOPY_KAFKA_BROKER=off skips starting one (Kafka suites then skip, or fail when CI=true).
import type { TestProject } from 'vitest/node';
import { startBroker, type Broker } from '../broker/broker.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBootstrapServers: string;
    kafkaBrokerError: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.KAFKA_BOOTSTRAP_SERVERS;
  if (given) {
    project.provide('kafkaBootstrapServers', given);
    return undefined;
  }
  if (process.env.SNOOPY_KAFKA_BROKER === 'off') {
    project.provide('kafkaBrokerError', 'SNOOPY_KAFKA_BROKER=off');
    return undefined;
  }
  let broker: Broker;
  try {
    broker = await startBroker();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (process.env.CI === 'true') throw err;
    console.warn(`[kafka] no local broker, Kafka suites will skip: ${message}`);
    project.provide('kafkaBrokerError', message);
    return undefined;
  }
  process.env.KAFKA_BOOTSTRAP_SERVERS = broker.bootstrapServers;
  project.provide('kafkaBootstrapServers', broker.bootstrapServers);
  return async () => {
    delete process.env.KAFKA_BOOTSTRAP_SERVERS;
    await broker.stop();
  };
}
