import kafka from '@confluentinc/kafka-javascript';
import { OptionsError, describeValue } from '@snoopy/core';
import { adminSettings, bootstrapOf, type KafkaConfig } from './conf.js';
import { nativeCodes, wrapNative } from './errors.js';

/** What `topic.create()` accepts. */
export interface CreateTopicOptions {
  /** @default 1 */
  readonly partitions?: number;
  /** @default 1 */
  readonly replicationFactor?: number;
  /** Topic-level settings (`retention.ms`, `cleanup.policy`, ...). @default {} */
  readonly config?: Readonly<Record<string, string>>;
}

function positive(field: string, value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new OptionsError(`topic.create: Expected \`${field}\` to be an integer >= 1, got ${describeValue(value)}`);
  }
  return value;
}

/** @internal Creates `name`; resolves true when created, false when it already existed. */
export async function createTopic(config: KafkaConfig, name: string, options: CreateTopicOptions | undefined, timeoutMs: number): Promise<boolean> {
  const o = options ?? {};
  const partitions = positive('partitions', o.partitions);
  const replicationFactor = positive('replicationFactor', o.replicationFactor);
  if (o.config !== undefined && (o.config === null || typeof o.config !== 'object')) {
    throw new OptionsError(`topic.create: Expected \`config\` to be an object of topic settings, got ${describeValue(o.config)}`);
  }
  const client = kafka.AdminClient.create(adminSettings(config) as never);
  try {
    return await new Promise<boolean>((resolve, reject) => {
      client.createTopic(
        { topic: name, num_partitions: partitions, replication_factor: replicationFactor, config: { ...o.config } },
        timeoutMs,
        (err) => {
          if (!err) resolve(true);
          else if (err.code === nativeCodes.TOPIC_ALREADY_EXISTS) resolve(false);
          else reject(wrapNative('SNOOPY_KAFKA_ADMIN', `Could not create topic ${name} at ${bootstrapOf(config)}`, err, { topic: name }));
        },
      );
    });
  } finally {
    client.disconnect();
  }
}
