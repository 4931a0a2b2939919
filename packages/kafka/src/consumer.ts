import kafka from '@confluentinc/kafka-javascript';
import type { KafkaConsumer as NativeConsumer, LibrdKafkaError, Message as NativeMessage } from '@confluentinc/kafka-javascript';
import { SnoopyError, take, type ErrorCode, type Logger, type MessageMeta, type Taking } from '@snoopy/core';
import { createTopic } from './admin.js';
import { OffsetCommitter, TransactionCommitter } from './commit.js';
import { bootstrapOf, consumerSettings, splitTopicLevel, type KafkaConfig } from './conf.js';
import { DeadLetters } from './dead-letter.js';
import { KafkaError, isTransient, nativeCodes, wrapNative } from './errors.js';
import { Fetcher } from './fetch.js';
import { ConsumedMessage, UndecodableMessage, headersFromNative, type KafkaMessage } from './message.js';
import { PartitionOffsets } from './offsets.js';
import { consumerConfigDefaults, type ResolvedTopicOptions } from './options.js';
import type { TopicProducer } from './producer.js';
import { Rebalancer } from './rebalance.js';

/** Counters of one Topic's consumers. */
export interface ConsumerStats {
  /** Messages fetched from the brokers. */
  fetched: number;
  /** Messages (and undecodable items) handed out. */
  yielded: number;
  /** Items acknowledged by core. */
  acked: number;
  /** Offset commits the broker accepted (or transactions that carried offsets). */
  commits: number;
  /** Offset commits that failed (retried with the next commit; see `SNOOPY_KAFKA_COMMIT`). */
  commitErrors: number;
  /** Duration of the last commit in whole milliseconds. */
  lastCommitMs: number;
  /** Messages whose key or value did not decode. */
  decodeErrors: number;
  /** Undecodable messages written to the dead-letter topic. */
  deadLettered: number;
  /** Partitions assigned and revoked. */
  assigned: number;
  revoked: number;
  /** Messages dropped because their partition had been revoked or they were redelivered. */
  stale: number;
  /** Times a partition was paused because it held `maxUnackedPerPartition` unacknowledged messages. */
  capped: number;
}

export type ConsumedItem<V, K> = KafkaMessage<V, K> | UndecodableMessage;

export interface ConsumerSetup<V, K> {
  readonly topic: string;
  readonly config: () => KafkaConfig;
  readonly options: ResolvedTopicOptions<V, K>;
  readonly log: Logger;
  readonly stats: ConsumerStats;
  /** Partitions this Topic has been assigned before: `offset`/`replay` apply only once. */
  readonly seen: Set<number>;
  /** The producer that writes dead letters (the Topic's own, non-transactional). */
  readonly deadLetterProducer: () => TopicProducer;
  /**
   * Exactly-once: the output Topic's transactional producer, which commits this consumer's
   * offsets with its transaction. Undefined for at-least-once.
   */
  readonly transaction: TopicProducer | undefined;
}

/**
 * While more than YIELD_UNACKED items are unacknowledged, or a fetch is under way, the consumer
 * lets the event loop run after every BURST items it hands out (see `yieldThenNext()`).
 */
const BURST = 64;
const YIELD_UNACKED = 1000;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

interface Waiter {
  readonly check: () => boolean;
  readonly resolve: (ok: boolean) => void;
}

/**
 * @internal One group member reading one topic. The path of a message, top to bottom:
 *
 * 1. `Fetcher` (fetch.ts) reads batches from librdkafka into its buffer and keeps polling while
 *    core is busy (pausing partitions rather than reading more).
 * 2. `next()` -> `take()` here: drops messages of revoked partitions, starts tracking the offset
 *    in its partition's `PartitionOffsets` (offsets.ts), decodes it (`decode()`) into a
 *    `ConsumedMessage` that carries its tracker, or, when it does not decode, dead-letters it
 *    (dead-letter.ts) or yields an `UndecodableMessage`.
 * 3. Core calls `Topic[ack](item)` -> `acknowledge(item)` (message.ts) -> `tracker.ack(offset)`:
 *    the committable offset moves past the contiguous acknowledged prefix; `acked()` here counts.
 * 4. `OffsetCommitter` (commit.ts) commits the prefixes every `commitIntervalMs`, on revocation
 *    (rebalance.ts) and on close; with exactly-once `TransactionCommitter` sends them with the
 *    output's transaction instead.
 *
 * In flight: `unacked` counts this consumer's items handed out and not yet in a committable
 * prefix; each tracker's `inFlight` counts its partition's share.
 */
export class TopicConsumer<V, K> implements AsyncIterator<ConsumedItem<V, K>>, Taking<ConsumedItem<V, K>> {
  native: NativeConsumer | undefined;
  private fetcher: Fetcher | undefined;
  private committer: OffsetCommitter | undefined;
  private transactions: TransactionCommitter | undefined;
  private readonly rebalancer: Rebalancer;
  private readonly deadLetters: DeadLetters | undefined;
  private started: Promise<void> | undefined;
  private ready = false;
  readonly partitions = new Map<number, PartitionOffsets>();
  private wake: (() => void) | undefined;
  private error: unknown;
  private stopped = false;
  private barrier: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waiters: Waiter[] = [];
  disconnecting = false;
  private closing: Promise<void> | undefined;
  /** Items handed out and not yet part of a committable prefix, over all live partitions. */
  private unacked = 0;
  /** Items handed out since the consumer last let the event loop run. */
  private burst = 0;
  /** The last reason librdkafka gave for leaving the group (max poll interval exceeded...). */
  private leaveReason: string | undefined;
  private readonly tracker = { acked: (t: PartitionOffsets, settled: number) => this.acked(t, settled) };
  /** Since when the consumer has had no partition (joined, or all revoked), and when it next says so. */
  private waiting: { since: number; noticeAt: number; groupId: unknown } | undefined;

  constructor(private readonly setup: ConsumerSetup<V, K>) {
    const { topic, options, log, stats, seen } = setup;
    this.rebalancer = new Rebalancer(this, topic, options as ResolvedTopicOptions<unknown, unknown>, stats, log, seen, (error) => this.fail(error));
    if (options.deadLetter !== undefined) {
      this.deadLetters = new DeadLetters(options.deadLetter, setup.deadLetterProducer, log, {
        delivered: (tracker, offset) => {
          stats.deadLettered++;
          tracker.ack(offset);
        },
        failed: (error) => {
          this.fail(error);
          if (this.waiters.length > 0) this.checkWaiters();
        },
      });
    }
  }

  /**
   * Messages after the last one handed out, summed over the partitions held (cached high
   * watermarks: no broker request). Undefined when no held partition has a known position.
   */
  lag(): number | undefined {
    const native = this.native;
    if (native === undefined || !this.ready) return undefined;
    let lag: number | undefined;
    for (const tracker of this.partitions.values()) {
      if (tracker.retired) continue;
      const next = tracker.last >= 0 ? tracker.last + 1 : tracker.committed;
      if (next === undefined) continue;
      let high: number;
      try {
        high = native.getWatermarkOffsets(tracker.topic, tracker.partition).highOffset;
      } catch {
        continue; // librdkafka has not seen a fetch response for it yet: unknown, not zero
      }
      if (typeof high !== 'number' || high < 0) continue;
      lag = (lag ?? 0) + Math.max(0, high - next);
    }
    return lag;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Core's synchronous pull (`Taking`): the next buffered item, or undefined when `next()` must
   * answer (nothing buffered, not started, a rebalance barrier, an error, stopped, or the event
   * loop's turn after BURST items).
   */
  [take](): ConsumedItem<V, K> | undefined {
    if (!this.ready || this.barrier || this.error !== undefined || this.stopped) return undefined;
    if (++this.burst > BURST && this.mustYield()) return undefined;
    return this.take();
  }

  next(): Promise<IteratorResult<ConsumedItem<V, K>>> {
    if (this.ready && !this.barrier && this.error === undefined && !this.stopped) {
      if (++this.burst > BURST && this.mustYield()) return this.yieldThenNext();
      const item = this.take();
      if (item !== undefined) return Promise.resolve({ done: false, value: item });
    }
    return this.slowNext();
  }

  /**
   * Items from the buffer resolve at once, so a consumer that keeps pulling never returns to the
   * event loop. Delivery reports, which acknowledge the items of a consume-transform-produce
   * snap, then wait behind whole fetches, and unacknowledged items pile up to the snap's
   * `maxPending` (bench/results/kafka.md: 10,000 in flight, 14% of the pipeline's time in GC).
   * And the result of the next fetch, started when the buffer is half empty, waits until the
   * buffer is empty, so every batch is followed by a wait for the next (issue 15: 10 to 50 ms
   * per batch of 1,000 in a worker's first second). So while many items are unacknowledged, or
   * a fetch is under way, let I/O in every BURST items.
   */
  private mustYield(): boolean {
    return this.unacked > YIELD_UNACKED || this.fetcher!.fetching;
  }

  private yieldThenNext(): Promise<IteratorResult<ConsumedItem<V, K>>> {
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        this.burst = 0;
        this.next().then(resolve, reject);
      });
    });
  }

  private async slowNext(): Promise<IteratorResult<ConsumedItem<V, K>>> {
    this.burst = 0;
    if (!this.ready) {
      this.started ??= this.start();
      await this.started;
    }
    for (;;) {
      if (this.stopped) return DONE;
      if (this.error !== undefined) throw this.error;
      if (this.barrier) {
        await this.barrier;
        continue;
      }
      const item = this.take();
      if (item !== undefined) return { done: false, value: item };
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.fetcher!.fill();
      });
    }
  }

  async return(): Promise<IteratorResult<ConsumedItem<V, K>>> {
    await this.close();
    return DONE;
  }

  /** Every acknowledgement that counts, from the item's own tracker. */
  private acked(tracker: PartitionOffsets, settled: number): void {
    this.setup.stats.acked++;
    this.unacked -= settled;
    if (tracker.capped && tracker.inFlight <= this.setup.options.maxUnackedPerPartition >> 1) this.fetcher?.uncap(tracker);
    if (this.waiters.length > 0) this.checkWaiters();
  }

  /** @internal RebalanceHost: a tracker for a newly assigned partition. */
  track(partition: number): PartitionOffsets {
    const t = new PartitionOffsets(this.setup.topic, partition, this.tracker);
    this.partitions.set(partition, t);
    this.fetcher?.assigned(t);
    this.wakeUp();
    return t;
  }

  /** @internal RebalanceHost: stops tracking a partition. */
  retire(tracker: PartitionOffsets): void {
    if (tracker.retired) return;
    this.unacked -= tracker.inFlight;
    tracker.retired = true;
    if (this.partitions.get(tracker.partition) === tracker) this.partitions.delete(tracker.partition);
    if (this.waiters.length > 0) this.checkWaiters();
  }

  /** @internal RebalanceHost: drains (bounded) and commits partitions before they are revoked. */
  async settleRevoked(trackers: PartitionOffsets[]): Promise<void> {
    if (this.transactions) {
      if (this.transactions.busy) await this.transactions.busy.catch(() => {});
      await this.transactions.commit(this.setup.options.drainTimeoutMs, 'revoking');
      return;
    }
    await this.waitUntil(() => trackers.every((t) => t.inFlight === 0), this.setup.options.drainTimeoutMs);
    // A failed commit here is counted and logged; the partitions' next owner reprocesses the rest.
    await this.committer!.commit(trackers).catch((error: unknown) => this.fail(error));
  }

  /** @internal RebalanceHost */
  lostReason(): string | undefined {
    return this.leaveReason;
  }

  private settings(config: KafkaConfig): Record<string, unknown> {
    const { options, log } = this.setup;
    if (config['enable.auto.commit'] === true || config['enable.auto.commit'] === 'true') {
      log.warn('enable.auto.commit is ignored: offsets are committed only once messages are processed');
    }
    const settings: Record<string, unknown> = {
      ...consumerConfigDefaults,
      ...consumerSettings(config),
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      rebalance_cb: this.rebalancer.callback,
      offset_commit_cb: (err: LibrdKafkaError | undefined, partitions: Array<{ partition: number; offset?: number }>) => this.committer?.result(err, partitions),
    };
    if (options.create === false) settings['allow.auto.create.topics'] = false;
    // `offset` applies where the group has no committed offset: that is `auto.offset.reset`.
    if (options.offset === 'earliest' || options.offset === 'latest') settings['auto.offset.reset'] = options.offset;
    if (this.setup.transaction && config['partition.assignment.strategy'] === undefined) {
      // Exactly-once keeps the eager protocol: a revocation commits the transaction for all partitions.
      settings['partition.assignment.strategy'] = 'range,roundrobin';
    }
    return settings;
  }

  private async start(): Promise<void> {
    const { topic, options, log } = this.setup;
    const config = this.setup.config();
    const groupId = config['group.id'];
    if (typeof groupId !== 'string' || groupId.length === 0) {
      throw new KafkaError(
        'SNOOPY_KAFKA_CONFIG',
        `Consuming topic ${topic} needs \`group.id\` in the Topic's config or in Conf(), got ${groupId === undefined ? 'none' : JSON.stringify(groupId)}`,
        { property: 'group.id' },
      );
    }
    const settings = this.settings(config);
    if (this.setup.transaction) await this.setup.transaction.connect();
    const [globalConf, topicConf] = splitTopicLevel(settings);
    const native = new kafka.KafkaConsumer(globalConf as never, topicConf as never);
    native.on('event.error', (err) => this.onError(err));
    // librdkafka's own logs (with its `debug` setting) go to this logger at debug level.
    native.on('event.log', (entry: { fac?: string; message?: string }) => log.debug({ fac: entry.fac }, entry.message ?? ''));
    const timeoutMs = options.connectTimeoutMs;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new KafkaError('SNOOPY_KAFKA_CONNECT', `Could not reach the Kafka brokers at ${bootstrapOf(config)} within ${timeoutMs} ms`));
        }, timeoutMs + 2000);
        native.connect({ timeout: timeoutMs }, (err) => {
          clearTimeout(timer);
          if (err) reject(wrapNative('SNOOPY_KAFKA_CONNECT', `Could not reach the Kafka brokers at ${bootstrapOf(config)} within ${timeoutMs} ms`, err));
          else resolve();
        });
      });
      await this.ensureTopic(native, config);
    } catch (error) {
      native.disconnect(() => {});
      throw error;
    }
    native.setDefaultConsumeTimeout(options.fetchTimeoutMs);
    (native as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.native = native;
    const maxPoll = Number(config['max.poll.interval.ms'] ?? 300_000);
    this.fetcher = new Fetcher(native, topic, options.fetchBatchSize, Math.max(50, Math.min(1000, Math.floor(maxPoll / 4))), {
      wake: () => this.wakeUp(),
      failed: (err) => this.onFetchError(err),
      partitions: () => this.partitions.values(),
      fetched: (count) => (this.setup.stats.fetched += count),
    });
    if (this.setup.transaction) {
      this.transactions = new TransactionCommitter(this.setup.transaction, this, topic, this.setup.stats, log, options.drainTimeoutMs);
    } else {
      this.committer = new OffsetCommitter(native, topic, this.setup.stats, log);
    }
    native.subscribe([topic]);
    this.timer = setInterval(() => this.tick(), options.commitIntervalMs);
    this.timer.unref();
    this.ready = true;
    this.waiting = { since: Date.now(), noticeAt: 5_000, groupId };
    log.info({ groupId, exactlyOnce: this.transactions !== undefined }, 'joining group');
  }

  /**
   * A topic that does not exist is not created behind the user's back: `create: true` creates it,
   * `create: false` fails with `SNOOPY_KAFKA_TOPIC_MISSING`, and by default the broker creates it
   * (librdkafka's `allow.auto.create.topics`, through the metadata request below) with a warning.
   */
  private async ensureTopic(native: NativeConsumer, config: KafkaConfig): Promise<void> {
    const { topic, options } = this.setup;
    // `byName`: librdkafka asks for this one topic, which lets the broker auto-create it
    // (`allow.auto.create.topics`); the answer then sometimes lists it already. Whether it exists
    // is asked over every topic's metadata, which creates nothing.
    const metadata = (byName: boolean): Promise<boolean> =>
      new Promise((resolve, reject) =>
        native.getMetadata(byName ? { topic, timeout: options.connectTimeoutMs } : { allTopics: true, timeout: options.connectTimeoutMs }, (err, m) => {
          if (err) reject(wrapNative('SNOOPY_KAFKA_CONNECT', `Could not read the metadata of topic ${topic} at ${bootstrapOf(config)}`, err, { topic }));
          else resolve(m.topics.some((t) => t.name === topic && t.partitions.length > 0));
        }),
      );
    const exists = () => metadata(false);
    if (await exists()) return;
    if (options.create === true) {
      await createTopic(config, topic, undefined, options.connectTimeoutMs);
      this.setup.log.info('topic created (create: true)');
      return;
    }
    if (options.create === undefined) {
      this.setup.log.warn(
        { code: 'SNOOPY_KAFKA_TOPIC_MISSING' },
        'the consumed topic does not exist: the broker creates it with its defaults; pass `create: true` to create it on purpose, `create: false` to refuse',
      );
      await metadata(true);
      return;
    }
    // A topic created a moment ago may not be in every broker's metadata yet: ask again briefly.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (await exists()) return;
    }
    throw new KafkaError(
      'SNOOPY_KAFKA_TOPIC_MISSING',
      `Topic ${topic} does not exist at ${bootstrapOf(config)} and the Topic has \`create: false\`: create it first (topic.create()), or pass \`create: true\` to create it when consuming starts`,
      { location: { topic } },
    );
  }

  private onError(err: LibrdKafkaError): void {
    const { topic, log } = this.setup;
    if (err.isFatal) return this.fail(wrapNative('SNOOPY_KAFKA_CONSUME', `Consumer of topic ${topic} failed`, err, { topic }));
    if (isTransient(err)) return void log.debug({ err: err.message, kafkaCode: err.code }, 'consumer: broker connection problem');
    if (err.code === nativeCodes.MAX_POLL_EXCEEDED) this.leaveReason = err.message;
    log.warn({ err: err.message, kafkaCode: err.code }, 'consumer error');
  }

  private onFetchError(err: LibrdKafkaError): void {
    const { topic, log } = this.setup;
    if (err.isFatal) return this.fail(wrapNative('SNOOPY_KAFKA_CONSUME', `Could not consume topic ${topic}`, err, { topic }));
    if (err.code === nativeCodes.UNKNOWN_TOPIC_OR_PART) {
      // The topic was deleted while consumed: it is not re-created (allow.auto.create.topics is off).
      log.warn({ kafkaCode: err.code, err: err.message }, 'the consumed topic does not exist (deleted?); waiting for it');
      return;
    }
    log.debug({ err: err.message, kafkaCode: err.code }, 'consume error');
  }

  private fail(error: unknown): void {
    if (this.error === undefined) this.error = error;
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next item to hand out, or undefined when the buffer is empty (a fetch is then under way). */
  private take(): ConsumedItem<V, K> | undefined {
    const fetcher = this.fetcher!;
    const cap = this.setup.options.maxUnackedPerPartition;
    for (;;) {
      const m = fetcher.take();
      if (m === undefined) return undefined;
      const tracker = this.partitions.get(m.partition);
      if (tracker === undefined || tracker.revoking || !tracker.track(m.offset)) {
        this.setup.stats.stale++;
        continue;
      }
      this.unacked++;
      if (tracker.inFlight >= cap && !tracker.capped) {
        this.setup.stats.capped++;
        fetcher.cap(tracker);
      }
      const item = this.decode(tracker, m);
      if (item !== undefined) {
        this.setup.stats.yielded++;
        return item;
      }
    }
  }

  private decode(tracker: PartitionOffsets, m: NativeMessage): ConsumedItem<V, K> | undefined {
    const { codec, keyCodec } = this.setup.options;
    let part = 'key';
    let name = keyCodec.name;
    try {
      const rawKey = m.key;
      const key = rawKey === null || rawKey === undefined ? null : keyCodec.decode(typeof rawKey === 'string' ? Buffer.from(rawKey) : rawKey);
      part = 'value';
      name = codec.name;
      const value = m.value === null ? (null as V) : codec.decode(m.value);
      return new ConsumedMessage<V, K>(tracker, key, value, headersFromNative(m.headers), m.topic, m.partition, m.offset, m.timestamp);
    } catch (cause) {
      return this.undecodable(tracker, m, part, name, cause);
    }
  }

  private undecodable(tracker: PartitionOffsets, m: NativeMessage, part: string, codecName: string, cause: unknown): UndecodableMessage | undefined {
    this.setup.stats.decodeErrors++;
    const location = { topic: m.topic, partition: m.partition, offset: m.offset };
    const code: ErrorCode = cause instanceof SnoopyError && cause.code.startsWith('SNOOPY_CODEC_') ? cause.code : 'SNOOPY_CODEC_DECODE';
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = new SnoopyError(code, `Could not decode the ${part} of a message with codec ${codecName}: ${reason}`, { cause, location });
    const headers = headersFromNative(m.headers);
    if (this.deadLetters) {
      this.deadLetters.send(tracker, m, code, error.message, headers);
      return undefined;
    }
    const meta: MessageMeta = { ...location, timestamp: m.timestamp, headers };
    return new UndecodableMessage(tracker, m.offset, error, meta, { key: m.key ?? null, value: m.value, headers });
  }

  private tick(): void {
    if (this.stopped) return;
    this.noteWaiting();
    if (this.barrier) return;
    if (this.transactions) void this.transactions.commit(this.setup.options.drainTimeoutMs).catch((error: unknown) => this.fail(error));
    // One periodic commit at a time: a commit still waiting for its result covers this tick too.
    else if (this.committer && !this.committer.busy) void this.committer.commit(this.partitions.values()).catch((error: unknown) => this.fail(error));
  }

  /**
   * While the consumer has no partition (a restarted worker waiting for the group to rebalance,
   * or more workers than partitions), one info line after 5 s, then after 10, 20, 40 s... and
   * at most every 5 minutes: said while it matters, not every tick.
   */
  private noteWaiting(): void {
    const w = this.waiting;
    if (w === undefined) return;
    if (this.partitions.size > 0) {
      w.since = Date.now();
      w.noticeAt = 5_000;
      return;
    }
    const waitingMs = Date.now() - w.since;
    if (waitingMs < w.noticeAt) return;
    w.noticeAt = Math.min(waitingMs * 2, waitingMs + 300_000);
    this.setup.log.info({ groupId: w.groupId, waitingMs }, 'waiting for assignment');
  }

  /** @internal TransactionHost */
  hold(): () => void {
    let release!: () => void;
    this.barrier = new Promise((r) => (release = r));
    return () => {
      this.barrier = undefined;
      release();
      this.wakeUp();
    };
  }

  /** @internal TransactionHost */
  live(): Iterable<PartitionOffsets> {
    return this.partitions.values();
  }

  /** @internal TransactionHost (also the number of items a close leaves to be redelivered). */
  unackedCount(): number {
    return this.unacked;
  }

  waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        check,
        resolve: (ok) => {
          clearTimeout(timer);
          resolve(ok);
        },
      };
      this.waiters.push(waiter);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  private checkWaiters(): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.check()) w.resolve(true);
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /**
   * Stops fetching, commits what was acknowledged, leaves the group. Idempotent. Rejects with
   * `SNOOPY_KAFKA_COMMIT` when the final commit failed (the unacknowledged rest is redelivered).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopped = true;
      this.wakeUp();
      clearInterval(this.timer);
      // A barrier or revocation waiting for acknowledgements stops waiting: nothing more comes.
      for (const w of this.waiters.splice(0)) w.resolve(false);
      if (this.started === undefined) return;
      try {
        await this.started;
      } catch {
        return;
      }
      this.fetcher!.quiesce();
      const native = this.native!;
      const { log, options } = this.setup;
      // Core calls return() once its in-flight work is done: what is not acknowledged now was
      // never processed (an item pulled while stopping) and is redelivered. Nothing to wait for.
      if (this.unacked > 0) log.debug({ unacked: this.unacked }, 'closing with unacknowledged messages; they will be redelivered');
      // Dead letters are acknowledged by their delivery reports: let them land first.
      await this.deadLetters?.settle(options.drainTimeoutMs, (check, ms) => this.waitUntil(check, ms));
      let failure: unknown;
      if (this.transactions) {
        if (this.transactions.busy) await this.transactions.busy.catch(() => {});
        if (this.error === undefined) await this.transactions.commit(0, 'final').catch((error: unknown) => (failure = error));
      } else {
        const committer = this.committer!;
        await committer.settled();
        // One more try if the last one failed: a commit the broker refuses twice is reported.
        for (let attempt = 0; attempt < 2; attempt++) {
          const ok = await committer.commit(this.partitions.values()).catch((error: unknown) => ((failure = error), true));
          if (ok) break;
          if (attempt === 1) {
            const partitions = [...this.partitions.values()].filter((t) => t.dirty).map((t) => t.partition);
            failure = new KafkaError('SNOOPY_KAFKA_COMMIT', `Could not commit the final offsets of topic ${this.setup.topic} partitions ${partitions.join(', ')} on close; their messages will be redelivered`, { location: { topic: this.setup.topic } });
          }
        }
      }
      await this.rebalancer.settled();
      this.fetcher!.stop();
      this.disconnecting = true;
      for (const t of [...this.partitions.values()]) this.retire(t);
      for (const w of this.waiters) w.resolve(false);
      this.waiters = [];
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 30_000);
        native.disconnect(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      log.debug('consumer closed');
      if (failure !== undefined) throw failure;
    })();
    return this.closing;
  }
}
