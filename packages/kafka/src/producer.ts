import kafka from '@confluentinc/kafka-javascript';
import type { DeliveryReport, KafkaConsumer as NativeConsumer, LibrdKafkaError, Producer as NativeProducer, TopicPartitionOffset } from '@confluentinc/kafka-javascript';
import type { Completion, Logger } from '@snoopy/core';
import { bootstrapOf, splitTopicLevel, type KafkaConfig } from './conf.js';
import { KafkaError, isTransient, nativeCodes, wrapNative, type NativeError } from './errors.js';
import { DeliveryBatches } from './delivery-batches.js';
import type { Delivery } from './message.js';

/** Counters of one Topic's producer. */
export interface ProducerStats {
  /** Messages handed to librdkafka. */
  produced: number;
  /** Messages with a successful delivery report. */
  delivered: number;
  /** Messages with a failed delivery report. */
  deliveryErrors: number;
  /** Times the local queue was full and the caller had to wait. */
  queueFullWaits: number;
  /** Transactions committed (exactly-once only). */
  transactions: number;
}

type Headers = Array<Record<string, string | Buffer>> | undefined;

/** Messages a batch-acknowledged producer holds during a flush before its callers must wait. */
const HOLD_WHILE_FLUSHING = 20_000;

interface Held {
  topic: string;
  partition: number | null;
  value: Buffer | null;
  key: Buffer | null;
  timestamp: number | null;
  headers: Headers;
  completion: Completion;
}

/** @internal A completion that settles a promise, for awaited sends. */
export class AwaitedDelivery implements Completion {
  resolve!: (delivery: Delivery) => void;
  reject!: (error: unknown) => void;
  readonly promise = new Promise<Delivery>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
  done(): void {
    this.resolve({ topic: '', partition: -1, offset: -1 });
  }
  fail(error: unknown): void {
    this.reject(error);
  }
}

export interface ProducerSetup {
  readonly config: () => KafkaConfig;
  readonly connectTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly transactionalId?: string | undefined;
  /**
   * Acknowledge by flush (`DeliveryBatches`): librdkafka reports only failures, a flush confirms
   * the rest. For core's deferred sink, whose completions need no partition or offset.
   */
  readonly batchAcks?: boolean;
  readonly log: Logger;
  readonly stats: ProducerStats;
}

function promisify(run: (cb: (err: LibrdKafkaError | null | undefined) => void) => void, code: 'SNOOPY_KAFKA_TRANSACTION', what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    run((err) => (err ? reject(wrapNative(code, what, err)) : resolve()));
  });
}

/**
 * @internal One librdkafka producer: produce() with the completion as the opaque, delivery
 * reports settling completions (or, with `batchAcks`, `DeliveryBatches` settling them by flush),
 * a hold queue that makes callers wait (never fail) while the local queue is full or the producer
 * is connecting or committing a transaction.
 */
export class TopicProducer {
  private native: NativeProducer | undefined;
  private connecting: Promise<void> | undefined;
  private held: Held[] = [];
  private heldHead = 0;
  private room: { promise: Promise<void>; resolve: () => void } | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Set while a transaction commits: produce() holds messages until the next one begins. */
  private paused = false;
  private closing: Promise<void> | undefined;
  outstanding = 0;
  private producedAtCommit = 0;
  private batches: DeliveryBatches | undefined;

  /** Messages produced since the open transaction began. */
  get producedInTransaction(): number {
    return this.setup.stats.produced - this.producedAtCommit;
  }

  constructor(private readonly setup: ProducerSetup) {}

  get transactional(): boolean {
    return this.setup.transactionalId !== undefined;
  }

  /** Connects once; later calls share the first attempt. */
  connect(): Promise<void> {
    // A failed attempt fails the messages waiting for it; the next produce tries again.
    this.connecting ??= this.open().catch((error: unknown) => {
      this.connecting = undefined;
      this.failHeld(error);
      throw error;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    const config = this.setup.config();
    const batchAcks = this.setup.batchAcks === true && this.setup.transactionalId === undefined;
    // Batch acknowledgement: reports for failures only, each with its payload to find its message.
    const settings: Record<string, unknown> = batchAcks ? { ...config, dr_cb: true, dr_msg_cb: true, 'delivery.report.only.error': true } : { ...config, dr_cb: true };
    if (this.setup.transactionalId !== undefined) settings['transactional.id'] = this.setup.transactionalId;
    const [globalConf, topicConf] = splitTopicLevel(settings);
    const native = new kafka.Producer(globalConf as never, topicConf as never);
    native.on('delivery-report', (err, report) => this.onDelivery(err, report));
    native.on('event.error', (err) => this.onError(err));
    native.on('event.log', (entry: { fac?: string; message?: string }) => this.setup.log.debug({ fac: entry.fac }, entry.message ?? ''));
    const timeoutMs = this.setup.connectTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new KafkaError('SNOOPY_KAFKA_CONNECT', `Could not reach the Kafka brokers at ${bootstrapOf(config)} within ${timeoutMs} ms`));
        native.disconnect(() => {});
      }, timeoutMs + 2000);
      native.connect({ timeout: timeoutMs }, (err) => {
        clearTimeout(timer);
        if (err) {
          reject(
            wrapNative('SNOOPY_KAFKA_CONNECT', `Could not reach the Kafka brokers at ${bootstrapOf(config)} within ${timeoutMs} ms`, err),
          );
        } else resolve();
      });
    });
    try {
      native.setPollInBackground(true);
      if (this.setup.transactionalId !== undefined) {
        await promisify((cb) => native.initTransactions(timeoutMs, cb), 'SNOOPY_KAFKA_TRANSACTION', 'Could not initialise transactions');
        await promisify((cb) => native.beginTransaction(cb), 'SNOOPY_KAFKA_TRANSACTION', 'Could not begin a transaction');
      }
    } catch (error) {
      native.disconnect(() => {});
      throw error;
    }
    if (batchAcks) this.batches = new DeliveryBatches(native, this.setup.stats, this.setup.log, () => this.drain());
    this.native = native;
    this.setup.log.debug({ transactional: this.transactional, batchAcks }, 'producer connected');
    this.drain();
  }

  private onError(err: LibrdKafkaError): void {
    const transient = isTransient(err);
    if (transient) this.setup.log.debug({ err: err.message, code: err.code }, 'producer: broker connection problem');
    else this.setup.log.warn({ err: err.message, code: err.code, fatal: err.isFatal }, 'producer error');
  }

  private onDelivery(err: LibrdKafkaError | null | undefined, report: DeliveryReport): void {
    if (this.batches) {
      this.batches.report(err, report);
      if (this.heldHead < this.held.length) this.drain();
      return;
    }
    this.outstanding--;
    const completion = report.opaque as Completion | undefined;
    const stats = this.setup.stats;
    try {
      if (err) {
        stats.deliveryErrors++;
        completion?.fail(wrapNative('SNOOPY_KAFKA_PRODUCE', `Could not deliver a message to topic ${report.topic}`, err, { topic: report.topic, partition: report.partition }));
      } else {
        stats.delivered++;
        if (completion instanceof AwaitedDelivery) completion.resolve({ topic: report.topic, partition: report.partition, offset: report.offset });
        else completion?.done();
      }
    } catch (error) {
      this.setup.log.error({ err: error }, 'a completion threw');
    }
    if (this.heldHead < this.held.length) this.drain();
    else if (this.outstanding === 0 && this.idle) {
      const idle = this.idle;
      this.idle = undefined;
      idle.resolve();
    }
  }

  /**
   * Produces one message; the completion is settled by its delivery report. Returns a promise
   * only when the caller has to wait for room (full queue, connecting, transaction commit).
   */
  produce(
    topic: string,
    partition: number | null,
    value: Buffer | null,
    key: Buffer | null,
    timestamp: number | null,
    headers: Headers,
    completion: Completion,
  ): void | Promise<void> {
    if (this.closing) throw new KafkaError('SNOOPY_KAFKA_PRODUCE', `Topic ${topic} is closing: cannot produce`);
    const native = this.native;
    if (this.batches?.flushing && !this.paused) {
      // Held until the flush ends, without making the caller wait unless too much is held.
      this.held.push({ topic, partition, value, key, timestamp, headers, completion });
      return this.held.length - this.heldHead > HOLD_WHILE_FLUSHING ? this.roomPromise() : undefined;
    }
    if (native === undefined || this.paused || this.heldHead < this.held.length) {
      if (native === undefined) void this.connect().catch(() => {});
      return this.hold({ topic, partition, value, key, timestamp, headers, completion });
    }
    try {
      this.handOver(native, topic, partition, value, key, timestamp, headers, completion);
    } catch (error) {
      if ((error as NativeError).code === nativeCodes.QUEUE_FULL) {
        this.setup.stats.queueFullWaits++;
        return this.hold({ topic, partition, value, key, timestamp, headers, completion });
      }
      throw wrapNative('SNOOPY_KAFKA_PRODUCE', `Could not produce to topic ${topic}`, error, { topic });
    }
  }

  /** librdkafka's produce(), and the accounting of its completion; throws what produce() throws. */
  private handOver(
    native: NativeProducer,
    topic: string,
    partition: number | null,
    value: Buffer | null,
    key: Buffer | null,
    timestamp: number | null,
    headers: Headers,
    completion: Completion,
  ): void {
    const batches = this.batches;
    if (batches !== undefined) {
      native.produce(topic, partition, value, key, timestamp, undefined, headers);
      batches.add(topic, key, value, completion);
    } else {
      native.produce(topic, partition, value, key, timestamp, completion, headers);
      this.outstanding++;
    }
    this.setup.stats.produced++;
  }

  private hold(item: Held): Promise<void> {
    this.held.push(item);
    this.scheduleDrain();
    return this.roomPromise();
  }

  /** Resolves when the held messages were handed to librdkafka. */
  private roomPromise(): Promise<void> {
    if (!this.room) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.room = { promise, resolve };
    }
    return this.room.promise;
  }

  private scheduleDrain(): void {
    if (this.drainTimer || this.native === undefined || this.paused) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      this.drain();
    }, 5);
  }

  /** Hands held messages to librdkafka in order until the queue is full again. */
  private drain(): void {
    const native = this.native;
    if (native === undefined || this.paused || this.batches?.flushing) return;
    const held = this.held;
    while (this.heldHead < held.length) {
      const h = held[this.heldHead]!;
      try {
        this.handOver(native, h.topic, h.partition, h.value, h.key, h.timestamp, h.headers, h.completion);
      } catch (error) {
        if ((error as NativeError).code === nativeCodes.QUEUE_FULL) {
          this.scheduleDrain();
          return;
        }
        this.settleFailed(h.completion, wrapNative('SNOOPY_KAFKA_PRODUCE', `Could not produce to topic ${h.topic}`, error, { topic: h.topic }));
      }
      held[this.heldHead++] = undefined as never;
    }
    this.held = [];
    this.heldHead = 0;
    const room = this.room;
    this.room = undefined;
    room?.resolve();
  }

  /** Fails a completion; a completion that throws is a bug of its owner: logged, not swallowed. */
  private settleFailed(completion: Completion, error: unknown): void {
    try {
      completion.fail(error);
    } catch (thrown) {
      this.setup.log.error({ err: thrown }, 'a completion threw');
    }
  }

  private failHeld(error: unknown): void {
    const held = this.held;
    for (let i = this.heldHead; i < held.length; i++) {
      this.settleFailed(held[i]!.completion, error);
    }
    this.held = [];
    this.heldHead = 0;
    const room = this.room;
    this.room = undefined;
    room?.resolve();
  }

  /** Resolves once every message handed over so far has its delivery report. */
  async flush(timeoutMs = Infinity): Promise<boolean> {
    if (this.connecting === undefined) return true;
    try {
      await this.connecting;
    } catch {
      return true;
    }
    const native = this.native!;
    const deadline = Date.now() + timeoutMs;
    while ((this.batches?.owed ?? this.outstanding) > 0 || this.heldHead < this.held.length) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const wait = Math.min(left, 1000);
      let idle: Promise<void>;
      if (this.batches) idle = this.batches.settled(); // its own flushes confirm what it owes
      else {
        if (!this.idle) {
          let resolve!: () => void;
          const promise = new Promise<void>((r) => (resolve = r));
          this.idle = { promise, resolve };
        }
        if (native.isConnected()) native.flush(wait, () => {});
        idle = this.idle.promise;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([idle, new Promise((r) => (timer = setTimeout(r, wait)))]);
      clearTimeout(timer);
      if (this.heldHead < this.held.length) this.drain();
    }
    return true;
  }

  /**
   * Commits the open transaction with the consumer's offsets and begins the next one. Messages
   * produced meanwhile are held and go into the next transaction.
   */
  async commitTransaction(offsets: TopicPartitionOffset[], consumer: NativeConsumer | undefined): Promise<void> {
    await this.connect();
    const native = this.native!;
    this.paused = true;
    try {
      await this.flush();
      if (offsets.length > 0 && consumer) {
        await promisify((cb) => native.sendOffsetsToTransaction(offsets, consumer, this.setup.connectTimeoutMs, cb), 'SNOOPY_KAFKA_TRANSACTION', 'Could not add offsets to the transaction');
      }
      await promisify((cb) => native.commitTransaction(this.setup.connectTimeoutMs, cb), 'SNOOPY_KAFKA_TRANSACTION', 'Could not commit the transaction');
      this.setup.stats.transactions++;
      this.producedAtCommit = this.setup.stats.produced;
      await promisify((cb) => native.beginTransaction(cb), 'SNOOPY_KAFKA_TRANSACTION', 'Could not begin a transaction');
    } catch (error) {
      // Thrown to the consumer, which ends the stream with it: not logged here as well.
      this.setup.log.debug({ err: error }, 'transaction failed; aborting it');
      await promisify((cb) => native.abortTransaction(this.setup.connectTimeoutMs, cb), 'SNOOPY_KAFKA_TRANSACTION', 'Could not abort the transaction').catch(() => {});
      throw error;
    } finally {
      this.paused = false;
      this.drain();
    }
  }

  /** Flushes (bounded), then disconnects. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.connecting === undefined) return;
      try {
        await this.connecting;
      } catch {
        return;
      }
      const native = this.native!;
      const flushed = await this.flush(this.setup.closeTimeoutMs);
      if (!flushed) this.setup.log.warn({ outstanding: this.batches?.owed ?? this.outstanding }, 'producer closed with undelivered messages');
      this.batches?.stop();
      this.failHeld(new KafkaError('SNOOPY_KAFKA_PRODUCE', 'The producer closed before the message was sent'));
      if (this.transactional && this.producedInTransaction > 0) {
        // Whatever the source did not commit together with its offsets is reprocessed after a
        // restart, so it must not become visible: abort it.
        await promisify((cb) => native.abortTransaction(this.setup.connectTimeoutMs, cb), 'SNOOPY_KAFKA_TRANSACTION', 'Could not abort the transaction').catch((error: unknown) => {
          this.setup.log.warn({ err: error }, 'aborting the open transaction failed');
        });
      }
      await new Promise<void>((resolve) => native.disconnect(2000, () => resolve()));
      this.setup.log.debug('producer disconnected');
    })();
    return this.closing;
  }
}
