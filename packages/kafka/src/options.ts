import { OptionsError, describeValue } from '@snoopy/core';
import { JsonCodec, StringCodec, type Codec } from '@snoopy/codecs';

/** Where a consumer starts reading a partition the first time this Topic is assigned it. */
export type StartOffset = 'earliest' | 'latest' | number;

/** Options of a Kafka-to-Kafka exactly-once pipeline, given to the output Topic. */
export interface ExactlyOnceOptions {
  /**
   * The Topic the snap consumes from. Its consumed offsets are committed in the same Kafka
   * transaction as the messages produced to this Topic.
   */
  readonly source: object;
  /**
   * librdkafka `transactional.id`. Give each worker a stable id of its own so that a restarted
   * worker aborts its predecessor's open transaction at once instead of after
   * `transaction.timeout.ms`. @default `snoopy-<group.id>-<topic>-<random>`
   */
  readonly transactionalId?: string;
}

/** How a Topic reads, writes, commits and encodes. Every field is optional. */
export interface TopicOptions<V = unknown, K = string> {
  /** Encodes and decodes message values. @default JsonCodec */
  readonly codec?: Codec<V>;
  /** Encodes and decodes message keys. @default StringCodec */
  readonly keyCodec?: Codec<K>;
  /**
   * Where to start a partition the first time this Topic is assigned it: `'earliest'`,
   * `'latest'` or an offset. Never applied again on later rebalances. Without it, the group's
   * committed offset applies, else librdkafka's `auto.offset.reset` (`earliest` by default here).
   * @default undefined
   */
  readonly offset?: StartOffset;
  /**
   * Topic that messages which fail to decode are written to, with their original bytes and
   * `snoopy.error.*` headers; consumption goes on. Without it, such a message goes through the
   * snap's error policy. @default undefined
   */
  readonly deadLetter?: string;
  /** Longest wait for the brokers on connect before failing with `SNOOPY_KAFKA_CONNECT`. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** Messages fetched per `consume()` call; also the size of the read-ahead buffer. @default 1000 */
  readonly fetchBatchSize?: number;
  /** Longest wait for the first message of a fetch before fetching again. @default 100 */
  readonly fetchTimeoutMs?: number;
  /**
   * How often acknowledged offsets are committed (or, with exactly-once, how often the
   * transaction commits). They are also committed on revocation and on close. @default 1000
   */
  readonly commitIntervalMs?: number;
  /**
   * Longest wait, on revocation (and, with exactly-once, before each transaction commit), for
   * messages already handed out to be acknowledged; also bounds the producer's flush on close.
   * @default 10000
   */
  readonly drainTimeoutMs?: number;
  /** Consume-transform-produce in Kafka transactions. @default undefined (at-least-once) */
  readonly exactlyOnce?: ExactlyOnceOptions;
}

export interface ResolvedTopicOptions<V, K> {
  readonly codec: Codec<V>;
  readonly keyCodec: Codec<K>;
  readonly offset: StartOffset | undefined;
  readonly deadLetter: string | undefined;
  readonly connectTimeoutMs: number;
  readonly fetchBatchSize: number;
  readonly fetchTimeoutMs: number;
  readonly commitIntervalMs: number;
  readonly drainTimeoutMs: number;
  readonly exactlyOnce: { readonly source: object; readonly transactionalId: string | undefined } | undefined;
}

export const topicDefaults = Object.freeze({
  connectTimeoutMs: 10_000,
  fetchBatchSize: 1000,
  fetchTimeoutMs: 100,
  commitIntervalMs: 1000,
  drainTimeoutMs: 10_000,
});

/**
 * librdkafka settings a Topic uses unless the Topic or `Conf` says otherwise. Like Java
 * consumers, subscribing creates a missing topic (where the broker allows it), so a consumer
 * that starts before the topic's first producer does not wait for a metadata refresh.
 */
export const consumerConfigDefaults = Object.freeze({
  'auto.offset.reset': 'earliest',
  'allow.auto.create.topics': true,
  'enable.partition.eof': false,
  // Prefetch up to 200,000 messages per partition (librdkafka: 100,000) so the consumer does not
  // wait on the brokers between fetches: consume went from ~115k to ~220k msgs/s in
  // bench/results/kafka.md. Memory stays bounded by `queued.max.messages.kbytes` (64 MB).
  // `fetch.wait.max.ms` 50 and `max.partition.fetch.bytes` 4 MB measured no difference there.
  'queued.min.messages': 200_000,
});

export const producerConfigDefaults = Object.freeze({
  partitioner: 'murmur2_random',
  'linger.ms': 5,
  'batch.num.messages': 10_000,
  'batch.size': 1_000_000,
  'queue.buffering.max.messages': 100_000,
  'enable.idempotence': true,
});

const known = new Set([
  'codec', 'keyCodec', 'offset', 'deadLetter', 'connectTimeoutMs', 'fetchBatchSize', 'fetchTimeoutMs',
  'commitIntervalMs', 'drainTimeoutMs', 'exactlyOnce',
]);

function fail(where: string, field: string, expected: string, got: unknown): never {
  throw new OptionsError(`${where}: Expected \`${field}\` to be ${expected}, got ${describeValue(got)}`);
}

function int(where: string, field: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(where, field, `an integer >= ${min}`, value);
  return value;
}

function codec<T>(where: string, field: string, value: unknown, fallback: Codec<T>): Codec<T> {
  if (value === undefined) return fallback;
  const c = value as Partial<Codec<T>> | null;
  if (c === null || typeof c !== 'object' || typeof c.encode !== 'function' || typeof c.decode !== 'function') {
    fail(where, field, 'a codec (an object with encode() and decode())', value);
  }
  return value as Codec<T>;
}

/** Merges `options` over the defaults, validates every field and freezes the result. */
export function resolveTopicOptions<V, K>(options: TopicOptions<V, K> | undefined, where = 'Topic'): ResolvedTopicOptions<V, K> {
  const o = options ?? {};
  if (o === null || typeof o !== 'object' || Array.isArray(o)) fail(where, 'options', 'an object', o);
  for (const key of Object.keys(o)) {
    if (!known.has(key)) fail(where, key, `absent (known options: ${[...known].join(', ')})`, (o as Record<string, unknown>)[key]);
  }
  const offset = o.offset;
  if (
    offset !== undefined &&
    offset !== 'earliest' &&
    offset !== 'latest' &&
    !(typeof offset === 'number' && Number.isInteger(offset) && offset >= 0)
  ) {
    fail(where, 'offset', "'earliest', 'latest' or an integer >= 0", offset);
  }
  if (o.deadLetter !== undefined && (typeof o.deadLetter !== 'string' || o.deadLetter.length === 0)) {
    fail(where, 'deadLetter', 'a topic name (a non-empty string)', o.deadLetter);
  }
  let exactlyOnce: ResolvedTopicOptions<V, K>['exactlyOnce'];
  if (o.exactlyOnce !== undefined) {
    const e = o.exactlyOnce as Partial<ExactlyOnceOptions> | null;
    if (e === null || typeof e !== 'object') fail(where, 'exactlyOnce', '{ source, transactionalId? }', e);
    if (typeof e.source !== 'function' || typeof (e.source as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
      fail(where, 'exactlyOnce.source', 'the source Topic', e.source);
    }
    if (e.transactionalId !== undefined && (typeof e.transactionalId !== 'string' || e.transactionalId.length === 0)) {
      fail(where, 'exactlyOnce.transactionalId', 'a non-empty string', e.transactionalId);
    }
    exactlyOnce = Object.freeze({ source: e.source, transactionalId: e.transactionalId });
  }
  return Object.freeze({
    codec: codec<V>(where, 'codec', o.codec, new JsonCodec() as unknown as Codec<V>),
    keyCodec: codec<K>(where, 'keyCodec', o.keyCodec, new StringCodec() as unknown as Codec<K>),
    offset,
    deadLetter: o.deadLetter,
    connectTimeoutMs: int(where, 'connectTimeoutMs', o.connectTimeoutMs, 1, topicDefaults.connectTimeoutMs),
    fetchBatchSize: int(where, 'fetchBatchSize', o.fetchBatchSize, 1, topicDefaults.fetchBatchSize),
    fetchTimeoutMs: int(where, 'fetchTimeoutMs', o.fetchTimeoutMs, 1, topicDefaults.fetchTimeoutMs),
    commitIntervalMs: int(where, 'commitIntervalMs', o.commitIntervalMs, 1, topicDefaults.commitIntervalMs),
    drainTimeoutMs: int(where, 'drainTimeoutMs', o.drainTimeoutMs, 0, topicDefaults.drainTimeoutMs),
    exactlyOnce,
  });
}
