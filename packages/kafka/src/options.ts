import { OptionsError, describeValue } from '@snoopy/core';
import { JsonCodec, StringCodec, type Codec } from '@snoopy/codecs';

/** A position in a partition: its start, its end, or an offset. */
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
   * Where to start a partition for which the group has no committed offset: `'earliest'`,
   * `'latest'` or an offset (like `auto.offset.reset`, which it overrides). Where the group has
   * committed, consuming resumes there: a restarted worker never rewinds. Without it,
   * librdkafka's `auto.offset.reset` applies (`earliest` by default here). @default undefined
   */
  readonly offset?: StartOffset;
  /**
   * A deliberate replay: start each partition at this position the first time this Topic is
   * assigned it, whatever the group committed (then commit on from there as usual). Not applied
   * again on later rebalances of the same Topic; a restarted process replays again. Cannot be
   * combined with `offset`. @default undefined
   */
  readonly replay?: StartOffset;
  /**
   * What consuming does when the topic does not exist. `true`: create it (1 partition,
   * replication 1; use `topic.create()` for more). `false`: fail with `SNOOPY_KAFKA_TOPIC_MISSING`
   * (and never let the broker create it, even when it is deleted later). Unset: log a warning with
   * `SNOOPY_KAFKA_TOPIC_MISSING` and let the broker create it with its defaults
   * (`auto.create.topics.enable`), as librdkafka consumers do. @default undefined
   */
  readonly create?: boolean;
  /**
   * Unacknowledged messages one partition may have before it is paused (it resumes at half):
   * bounds the memory one stuck message can make the offset tracking hold. @default 100000
   */
  readonly maxUnackedPerPartition?: number;
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
  readonly replay: StartOffset | undefined;
  readonly create: boolean | undefined;
  readonly maxUnackedPerPartition: number;
  readonly deadLetter: string | undefined;
  readonly connectTimeoutMs: number;
  readonly fetchBatchSize: number;
  readonly fetchTimeoutMs: number;
  readonly commitIntervalMs: number;
  readonly drainTimeoutMs: number;
  readonly exactlyOnce: { readonly source: object; readonly transactionalId: string | undefined } | undefined;
}

/**
 * Topic defaults. `fetchBatchSize` 1000: one `consume(n)` per 1000 messages, refilled when half
 * read; 300, 3000 and 5000 measured no faster in bench/kafka's separate-processes mode (issue 15,
 * bench/results/kafka.md), and a smaller read-ahead holds less while core is busy.
 */
export const topicDefaults = Object.freeze({
  connectTimeoutMs: 10_000,
  fetchBatchSize: 1000,
  fetchTimeoutMs: 100,
  commitIntervalMs: 1000,
  drainTimeoutMs: 10_000,
  maxUnackedPerPartition: 100_000,
});

/**
 * librdkafka settings a Topic uses unless the Topic or `Conf` says otherwise. A missing topic is
 * created by the broker as with any librdkafka consumer, but with a warning (`create: false`
 * refuses it, `create: true` creates it on purpose). The group rebalances incrementally
 * (cooperative-sticky: a member joining or leaving moves only the partitions that change owner,
 * the others keep theirs and their prefetched messages). Exactly-once consumers keep the eager
 * protocol (`range,roundrobin`).
 */
export const consumerConfigDefaults = Object.freeze({
  'auto.offset.reset': 'earliest',
  'allow.auto.create.topics': true,
  'partition.assignment.strategy': 'cooperative-sticky',
  'enable.partition.eof': false,
  // Prefetch up to 200,000 messages per partition (librdkafka: 100,000) so the consumer does not
  // wait on the brokers between fetches: consume went from ~115k to ~220k msgs/s in
  // bench/results/kafka.md. Memory stays bounded by `queued.max.messages.kbytes` (64 MB).
  // `fetch.wait.max.ms` 50 and `max.partition.fetch.bytes` 4 MB measured no difference there.
  'queued.min.messages': 200_000,
});

/**
 * librdkafka producer settings a Topic uses unless the Topic or `Conf` says otherwise. Each value
 * and why (figures: bench/results/kafka.md):
 * - `partitioner: 'murmur2_random'`: keyed messages land on the partition Java clients choose, so
 *   snoopy and JVM producers agree on per-key order (librdkafka's default, `consistent_random`,
 *   does not).
 * - `linger.ms: 5`: batches fill for at most 5 ms; 1 and 2 measured no faster, and 5 ms is below
 *   any latency a stream-processing user notices.
 * - `batch.num.messages: 10000`, `batch.size: 1000000`: large batches per request (librdkafka: 10000
 *   and 1 MB); 2000 measured no difference, larger sizes help only bigger messages.
 * - `queue.buffering.max.messages: 100000`: the local queue; when full, produce makes the caller
 *   wait (never fail). 500000 measured no faster and holds five times the memory.
 * - `queue.buffering.max.kbytes`: librdkafka's 1 GB, left alone: at 100 B to 10 kB messages the
 *   message count above binds first.
 * - `enable.idempotence: true`: no duplicates or reordering from librdkafka's own retries; it
 *   measured no slower (again with acknowledgement by flush, issue 15).
 * A Topic used as a sink adds `delivery.report.only.error` and `dr_msg_cb` to its own producer
 * (producer.ts, delivery-batches.ts): reports only for failures, confirmed by flush.
 */
export const producerConfigDefaults = Object.freeze({
  partitioner: 'murmur2_random',
  'linger.ms': 5,
  'batch.num.messages': 10_000,
  'batch.size': 1_000_000,
  'queue.buffering.max.messages': 100_000,
  'enable.idempotence': true,
});

const known = new Set([
  'codec', 'keyCodec', 'offset', 'replay', 'create', 'maxUnackedPerPartition', 'deadLetter', 'connectTimeoutMs', 'fetchBatchSize', 'fetchTimeoutMs',
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
  const position = (field: string, value: unknown): StartOffset | undefined => {
    if (value === undefined || value === 'earliest' || value === 'latest') return value;
    if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0)) fail(where, field, "'earliest', 'latest' or an integer >= 0", value);
    return value as number;
  };
  const offset = position('offset', o.offset);
  const replay = position('replay', o.replay);
  if (offset !== undefined && replay !== undefined) fail(where, 'replay', 'absent when `offset` is given (`offset` applies without a committed offset, `replay` always)', replay);
  if (o.create !== undefined && typeof o.create !== 'boolean') fail(where, 'create', 'a boolean', o.create);
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
    replay,
    create: o.create,
    maxUnackedPerPartition: int(where, 'maxUnackedPerPartition', o.maxUnackedPerPartition, 1, topicDefaults.maxUnackedPerPartition),
    deadLetter: o.deadLetter,
    connectTimeoutMs: int(where, 'connectTimeoutMs', o.connectTimeoutMs, 1, topicDefaults.connectTimeoutMs),
    fetchBatchSize: int(where, 'fetchBatchSize', o.fetchBatchSize, 1, topicDefaults.fetchBatchSize),
    fetchTimeoutMs: int(where, 'fetchTimeoutMs', o.fetchTimeoutMs, 1, topicDefaults.fetchTimeoutMs),
    commitIntervalMs: int(where, 'commitIntervalMs', o.commitIntervalMs, 1, topicDefaults.commitIntervalMs),
    drainTimeoutMs: int(where, 'drainTimeoutMs', o.drainTimeoutMs, 0, topicDefaults.drainTimeoutMs),
    exactlyOnce,
  });
}
