export { Topic, isTopic, type TopicFactory, type TopicInput, type TopicStats } from './topic.js';
export { Conf, type KafkaConfig, type KafkaConfigValue } from './conf.js';
export {
  resolveTopicOptions,
  topicDefaults,
  consumerConfigDefaults,
  producerConfigDefaults,
  type TopicOptions,
  type ResolvedTopicOptions,
  type ExactlyOnceOptions,
  type StartOffset,
} from './options.js';
export { KafkaError, kafkaErrorCodes, type KafkaErrorCode, type KafkaErrorOptions } from './errors.js';
export type { KafkaMessage, KafkaHeaders, SendOptions, Delivery } from './message.js';
export type { CreateTopicOptions } from './admin.js';
export type { OffsetRange } from './range.js';
export type { ProducerStats } from './producer.js';
export type { ConsumerStats } from './consumer.js';
