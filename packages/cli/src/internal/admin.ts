import kafka from '@confluentinc/kafka-javascript';
import { CliError } from '../errors.js';

type Admin = ReturnType<InstanceType<typeof kafka.KafkaJS.Kafka>['admin']>;

/**
 * A connected admin client for one command, closed by the caller with `disconnect()`. librdkafka's
 * own logging is off: failures reach the user as one error naming the brokers.
 */
export async function connectAdmin(brokers: string, timeoutMs = 10_000): Promise<Admin> {
  const client = new kafka.KafkaJS.Kafka({
    kafkaJS: { brokers: brokers.split(','), logLevel: kafka.KafkaJS.logLevel.NOTHING, connectionTimeout: timeoutMs },
  });
  const admin = client.admin();
  try {
    await admin.connect();
    // connect() succeeds before any broker answered: ask for something to know the brokers are there.
    await admin.listTopics({ timeout: timeoutMs });
  } catch (err) {
    await admin.disconnect().catch(() => {});
    throw new CliError('SNOOPY_CLI_KAFKA', `Could not reach the Kafka brokers at ${brokers}`, { cause: err });
  }
  return admin;
}

export type { Admin };
