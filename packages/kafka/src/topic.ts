import { ClosedError, OptionsError, ack, deliver, describe, describeValue, flush, open, progress, rootLogger, type Completion, type Logger, type MessageMeta, type ProgressReport } from '@snoopy/core';
import { randomUUID } from 'node:crypto';
import { createTopic, type CreateTopicOptions } from './admin.js';
import { checkConfig, processConf, producerSettings, type KafkaConfig } from './conf.js';
import { TopicConsumer, type ConsumerStats } from './consumer.js';
import { ConsumedMessage, UndecodableMessage, acknowledge, headersToNative, type Delivery, type KafkaMessage, type SendOptions } from './message.js';
import { producerConfigDefaults, resolveTopicOptions, type ResolvedTopicOptions, type TopicOptions } from './options.js';
import { AwaitedDelivery, TopicProducer, type ProducerStats } from './producer.js';
import { checkRange, readRange, type OffsetRange } from './range.js';

/** Counters of one Topic, as plain data (a snapshot). */
export interface TopicStats extends Readonly<ProducerStats>, Readonly<ConsumerStats> {}

/** What a Topic accepts as a sink or when called: a value, or a `[key, value]` pair. */
export type TopicInput<V, K> = V | readonly [K, V];

/**
 * A Kafka topic: callable to produce, async iterable to consume, and a sink and a source for
 * `@snap` / `stream()`.
 *
 * - `await topic(value)`, `await topic([key, value])`, `await topic.send(value, { key, headers,
 *   partition, timestamp })` resolve on the delivery report. An array of exactly two items is
 *   taken as `[key, value]`; send an array value with `send()`.
 * - `for await (const msg of topic)` consumes as a member of `group.id`. A message that does not
 *   decode goes to the `deadLetter` topic if there is one; otherwise it is yielded as core's
 *   `FailedItem` (which `stream()` routes through the snap's error policy).
 */
export interface Topic<V = unknown, K = string> extends AsyncIterable<KafkaMessage<V, K>>, AsyncDisposable {
  (input: TopicInput<V, K>): Promise<Delivery>;
  /** The topic's name. */
  readonly name: string;
  /** Counters: messages produced, delivered, fetched, acknowledged, commits, dead letters... */
  readonly stats: TopicStats;
  /** Produces one message; resolves on its delivery report. */
  send(value: V, options?: SendOptions<K>): Promise<Delivery>;
  /** Creates the topic; resolves true when it was created, false when it already existed. */
  create(options?: CreateTopicOptions): Promise<boolean>;
  /** Reads `[start, end)` of one partition without a group and without committing. */
  read(range: OffsetRange): AsyncIterable<KafkaMessage<V, K>>;
  /** Resolves once every message produced so far has its delivery report. */
  flush(): Promise<void>;
  /** Stops consuming, commits what was processed, leaves the group, flushes, disconnects. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<KafkaMessage<V, K>>;
  [ack](item: unknown): void;
  [describe](item: unknown): MessageMeta;
  /** The consumer group's lag over this process's assigned partitions, for core's progress lines. */
  [progress](): ProgressReport | undefined;
  [deliver](input: TopicInput<V, K>, completion: Completion): void | Promise<void>;
  [flush](): Promise<void>;
  /** Core's call at the start of a stream that has this Topic as a sink: the producer connects then. */
  [open](): void;
}

/** `Topic(name, config?, options?)`, with or without `new`. */
export interface TopicFactory {
  <V = unknown, K = string>(name: string, config?: KafkaConfig, options?: TopicOptions<V, K>): Topic<V, K>;
  new <V = unknown, K = string>(name: string, config?: KafkaConfig, options?: TopicOptions<V, K>): Topic<V, K>;
  readonly prototype: object;
}

const CORE = Symbol('snoopy.kafka.topic');

function newStats(): ProducerStats & ConsumerStats {
  return {
    produced: 0, delivered: 0, deliveryErrors: 0, queueFullWaits: 0, transactions: 0,
    fetched: 0, yielded: 0, acked: 0, commits: 0, commitErrors: 0, lastCommitMs: 0,
    decodeErrors: 0, deadLettered: 0, assigned: 0, revoked: 0, stale: 0, capped: 0,
  };
}

/**
 * `topic.stats`: a frozen copy. Written field by field, so every copy shares one shape: freezing
 * a spread copy (`{ ...s }`) cost about 2 µs a read, this about 0.14 µs (a worker that polls
 * its counters should not pay for it).
 */
function statsSnapshot(s: ProducerStats & ConsumerStats): Readonly<ProducerStats & ConsumerStats> {
  return Object.freeze({
    produced: s.produced, delivered: s.delivered, deliveryErrors: s.deliveryErrors, queueFullWaits: s.queueFullWaits, transactions: s.transactions,
    fetched: s.fetched, yielded: s.yielded, acked: s.acked, commits: s.commits, commitErrors: s.commitErrors, lastCommitMs: s.lastCommitMs,
    decodeErrors: s.decodeErrors, deadLettered: s.deadLettered, assigned: s.assigned, revoked: s.revoked, stale: s.stale, capped: s.capped,
  });
}

/** @internal Everything behind one Topic function object. */
class TopicCore<V, K> {
  readonly options: ResolvedTopicOptions<V, K>;
  readonly log: Logger;
  readonly stats = newStats();
  private readonly own: KafkaConfig;
  private merged: KafkaConfig | undefined;
  private producerInstance: TopicProducer | undefined;
  /** The producer of core's deferred sink (`[deliver]`), acknowledged by flush; see `sinkProducer`. */
  private batchInstance: TopicProducer | undefined;
  private readonly consumers = new Set<TopicConsumer<V, K>>();
  private readonly seen = new Set<number>();
  private closing: Promise<void> | undefined;
  /** The output Topic whose transactions carry this Topic's offsets (exactly-once). */
  transactionSink: TopicCore<unknown, unknown> | undefined;

  constructor(
    readonly name: string,
    config: KafkaConfig | undefined,
    options: TopicOptions<V, K> | undefined,
  ) {
    if (typeof name !== 'string' || name.length === 0) throw new OptionsError(`Topic: Expected \`name\` to be a non-empty string, got ${describeValue(name)}`);
    this.own = Object.freeze({ ...checkConfig(`Topic ${name}`, config) });
    this.options = resolveTopicOptions(options, `Topic ${name}`);
    // Producer and consumer children add their own `component`; pino would repeat the key otherwise.
    this.log = rootLogger().child({ topic: name });
    const eos = this.options.exactlyOnce;
    if (eos) {
      const source = (eos.source as Partial<Record<typeof CORE, TopicCore<unknown, unknown>>>)[CORE];
      if (source === undefined) throw new OptionsError(`Topic ${name}: Expected \`exactlyOnce.source\` to be a Topic, got ${describeValue(eos.source)}`);
      if (source.transactionSink !== undefined && source.transactionSink !== (this as TopicCore<unknown, unknown>)) {
        throw new OptionsError(`Topic ${name}: Expected \`exactlyOnce.source\` to be a Topic without an exactly-once output yet, got Topic ${source.name} (already the source of Topic ${source.transactionSink.name})`);
      }
      source.transactionSink = this as TopicCore<unknown, unknown>;
    }
  }

  /** Process-wide settings under the Topic's own, fixed at first connect. */
  config = (): KafkaConfig => (this.merged ??= Object.freeze({ ...processConf(), ...this.own }));

  /** The producer of awaited sends, dead letters and transactions: a delivery report per message. */
  producer = (): TopicProducer => (this.producerInstance ??= this.newProducer(false));

  /**
   * The producer behind the Topic as a sink. At-least-once, it acknowledges by flush
   * (`DeliveryBatches`): librdkafka reports only failures, so there is no JavaScript call per
   * delivered message (bench/results/kafka.md, issue 15). Its completions need no partition or
   * offset, which only per-message reports carry, so awaited sends keep `producer()`. Exactly-once
   * sinks produce into the transaction of `producer()`.
   */
  sinkProducer = (): TopicProducer => (this.options.exactlyOnce ? this.producer() : (this.batchInstance ??= this.newProducer(true)));

  private newProducer(batchAcks: boolean): TopicProducer {
    if (this.closing) throw new ClosedError(`Topic ${this.name}`);
    const eos = this.options.exactlyOnce;
    let transactionalId: string | undefined;
    if (eos) {
      const source = (eos.source as Record<typeof CORE, TopicCore<unknown, unknown>>)[CORE];
      const group = source.config()['group.id'];
      transactionalId = eos.transactionalId ?? `snoopy-${String(group)}-${this.name}-${randomUUID().slice(0, 8)}`;
    }
    return new TopicProducer({
      config: () => ({
        ...producerConfigDefaults,
        ...(eos ? { 'transaction.timeout.ms': 15_000 } : {}),
        ...producerSettings(this.config()),
      }),
      connectTimeoutMs: this.options.connectTimeoutMs,
      closeTimeoutMs: this.options.drainTimeoutMs,
      transactionalId,
      batchAcks,
      log: this.log.child({ component: 'producer' }),
      stats: this.stats,
    });
  }

  /**
   * Lag over the partitions this process's consumers hold: the broker's high watermark (as
   * librdkafka last saw it, no request) minus the next offset to hand out. Undefined until a
   * consumer has a partition with a known position.
   */
  progress(): ProgressReport | undefined {
    let lag: number | undefined;
    for (const consumer of this.consumers) {
      const l = consumer.lag();
      if (l !== undefined) lag = (lag ?? 0) + l;
    }
    return lag === undefined ? undefined : { lag };
  }

  private encode(value: V, key: K | null | undefined): [Buffer | null, Buffer | null] {
    const v = value === null ? null : this.options.codec.encode(value);
    const k = key === null || key === undefined ? null : this.options.keyCodec.encode(key);
    return [v, k];
  }

  deliver(input: TopicInput<V, K>, completion: Completion): void | Promise<void> {
    if (this.closing) throw new ClosedError(`Topic ${this.name}`);
    let value: V;
    let key: K | null = null;
    if (Array.isArray(input) && input.length === 2) {
      key = input[0] as K;
      value = input[1] as V;
    } else value = input as V;
    // The sink's per-message path: encoded inline, without encode()'s pair.
    const { codec, keyCodec } = this.options;
    const v = value === null ? null : codec.encode(value);
    const k = key === null || key === undefined ? null : keyCodec.encode(key);
    return this.sinkProducer().produce(this.name, null, v, k, null, undefined, completion);
  }

  call(input: TopicInput<V, K>): Promise<Delivery> {
    try {
      if (this.closing) throw new ClosedError(`Topic ${this.name}`);
      const [v, k] = Array.isArray(input) && input.length === 2 ? this.encode(input[1] as V, input[0] as K) : this.encode(input as V, null);
      const completion = new AwaitedDelivery();
      void this.producer().produce(this.name, null, v, k, null, undefined, completion);
      return completion.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  send(value: V, options: SendOptions<K> = {}): Promise<Delivery> {
    try {
      if (this.closing) throw new ClosedError(`Topic ${this.name}`);
      if (options === null || typeof options !== 'object') throw new OptionsError(`topic.send: Expected \`options\` to be an object, got ${describeValue(options)}`);
      const { partition, timestamp } = options;
      if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
        throw new OptionsError(`topic.send: Expected \`partition\` to be an integer >= 0, got ${describeValue(partition)}`);
      }
      if (timestamp !== undefined && (!Number.isInteger(timestamp) || timestamp < 0)) {
        throw new OptionsError(`topic.send: Expected \`timestamp\` to be an integer >= 0 (ms since the epoch), got ${describeValue(timestamp)}`);
      }
      const [v, k] = this.encode(value, options.key);
      const completion = new AwaitedDelivery();
      void this.producer().produce(this.name, partition ?? null, v, k, timestamp ?? null, headersToNative(options.headers), completion);
      return completion.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  iterate(): TopicConsumer<V, K> {
    if (this.closing) throw new ClosedError(`Topic ${this.name}`);
    const consumer: TopicConsumer<V, K> = new TopicConsumer<V, K>({
      topic: this.name,
      config: this.config,
      options: this.options,
      log: this.log.child({ component: 'consumer' }),
      stats: this.stats,
      seen: this.seen,
      deadLetterProducer: this.producer,
      // Exactly-once: the output Topic that named this one as its `exactlyOnce.source`.
      transaction: this.transactionSink?.producer(),
    });
    this.consumers.add(consumer);
    const close = consumer.close.bind(consumer);
    consumer.close = () => close().finally(() => this.consumers.delete(consumer));
    return consumer;
  }

  ack(item: unknown): void {
    acknowledge(item);
  }

  describe(item: unknown): MessageMeta {
    if (item instanceof ConsumedMessage) return item as MessageMeta;
    if (item instanceof UndecodableMessage) return item.meta;
    return {};
  }

  async flush(): Promise<void> {
    await Promise.all([this.producerInstance?.flush(), this.batchInstance?.flush()]);
  }

  /**
   * Core's `[open]`, at the start of a stream that has this Topic as a sink: the sink's producer
   * connects now, while the sources join their groups, rather than holding the first outputs
   * until it has. A connection that fails is reported by the first produce, which tries again.
   */
  open(): void {
    if (this.closing) return;
    this.sinkProducer()
      .connect()
      .catch((error: unknown) => this.log.debug({ err: error }, 'the sink producer could not connect at the start of the stream; the first produce tries again'));
  }

  create(options?: CreateTopicOptions): Promise<boolean> {
    if (this.closing) return Promise.reject(new ClosedError(`Topic ${this.name}`));
    return createTopic(this.config(), this.name, options, this.options.connectTimeoutMs);
  }

  read(range: OffsetRange): AsyncIterable<KafkaMessage<V, K>> {
    if (this.closing) throw new ClosedError(`Topic ${this.name}`);
    const checked = checkRange(range);
    return { [Symbol.asyncIterator]: () => readRange(this.name, this.config(), this.options, checked) };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Consumers first: their dead letters and final commits still need the producers.
      await Promise.all([...this.consumers].map((c) => c.close()));
      await Promise.all([this.producerInstance?.close(), this.batchInstance?.close()]);
      this.log.debug({ component: 'topic', stats: this.stats }, 'topic closed');
    })();
    return this.closing;
  }
}

function makeTopic<V, K>(name: string, config?: KafkaConfig, options?: TopicOptions<V, K>): Topic<V, K> {
  const core = new TopicCore<V, K>(name, config, options);
  const topic = function (input: TopicInput<V, K>): Promise<Delivery> {
    return core.call(input);
  };
  Object.setPrototypeOf(topic, Topic.prototype);
  const method = (value: unknown): PropertyDescriptor => ({ value, configurable: true, writable: false, enumerable: false });
  Object.defineProperties(topic, {
    name: { value: name, configurable: true },
    // A function's `length` is its arity; core would take it for a count of items to consume.
    length: { value: undefined, configurable: true },
    [CORE]: method(core),
    stats: { get: () => statsSnapshot(core.stats), configurable: true, enumerable: false },
    send: method((value: V, opts?: SendOptions<K>) => core.send(value, opts)),
    create: method((opts?: CreateTopicOptions) => core.create(opts)),
    read: method((range: OffsetRange) => core.read(range)),
    flush: method(() => core.flush()),
    close: method(() => core.close()),
    [Symbol.asyncDispose]: method(() => core.close()),
    [Symbol.asyncIterator]: method(() => core.iterate()),
    [ack]: method(acknowledge),
    [describe]: method((item: unknown) => core.describe(item)),
    [progress]: method(() => core.progress()),
    [deliver]: method((input: TopicInput<V, K>, completion: Completion) => core.deliver(input, completion)),
    [flush]: method(() => core.flush()),
    [open]: method(() => core.open()),
  });
  return topic as unknown as Topic<V, K>;
}

/**
 * Creates a Topic: `Topic<Order>('orders', { 'group.id': 'billing' }, { offset: 'earliest' })`.
 * Nothing connects until the Topic is first used; bad options fail here.
 */
export const Topic: TopicFactory = function Topic<V, K>(name: string, config?: KafkaConfig, options?: TopicOptions<V, K>) {
  return makeTopic<V, K>(name, config, options);
} as unknown as TopicFactory;

Object.setPrototypeOf(Topic.prototype, Function.prototype);

/** True for objects made by `Topic()`. */
export function isTopic(value: unknown): value is Topic<unknown, unknown> {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[CORE] instanceof TopicCore;
}

