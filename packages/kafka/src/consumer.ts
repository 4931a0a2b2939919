import kafka from '@confluentinc/kafka-javascript';
import type { KafkaConsumer as NativeConsumer, LibrdKafkaError, Message as NativeMessage, TopicPartition, TopicPartitionOffset } from '@confluentinc/kafka-javascript';
import { SnoopyError, type Completion, type ErrorCode, type Logger, type MessageMeta } from '@snoopy/core';
import { bootstrapOf, consumerSettings, splitTopicLevel, type KafkaConfig } from './conf.js';
import { KafkaError, isTransient, nativeCodes, wrapNative } from './errors.js';
import { ConsumedMessage, UndecodableMessage, headersFromNative, type KafkaMessage } from './message.js';
import { PartitionOffsets } from './offsets.js';
import { consumerConfigDefaults, type ResolvedTopicOptions } from './options.js';
import type { TopicProducer } from './producer.js';

/** Counters of one Topic's consumers. */
export interface ConsumerStats {
  /** Messages fetched from the brokers. */
  fetched: number;
  /** Messages (and undecodable items) handed out. */
  yielded: number;
  /** Items acknowledged by core. */
  acked: number;
  /** Offset commits that succeeded (or transactions that carried offsets). */
  commits: number;
  /** Offset commits that failed (they are retried on the next interval). */
  commitErrors: number;
  /** Duration of the last commit in milliseconds. */
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
}

export type ConsumedItem<V, K> = KafkaMessage<V, K> | UndecodableMessage;

export interface ConsumerSetup<V, K> {
  readonly topic: string;
  readonly config: () => KafkaConfig;
  readonly options: ResolvedTopicOptions<V, K>;
  readonly log: Logger;
  readonly stats: ConsumerStats;
  /** Partitions this Topic has been assigned before: the `offset` option applies only once. */
  readonly seen: Set<number>;
  /** The producer that writes dead letters (the Topic's own, non-transactional). */
  readonly deadLetterProducer: () => TopicProducer;
  /** The output Topic's transactional producer when this Topic is the source of an exactly-once snap. */
  readonly transaction: () => TopicProducer | undefined;
}

/**
 * While more than YIELD_IN_FLIGHT items are unacknowledged, the consumer lets the event loop run
 * after every BURST items it hands out (see `yieldThenNext()`).
 */
const BURST = 64;
const YIELD_IN_FLIGHT = 1000;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

interface Waiter {
  readonly check: () => boolean;
  readonly resolve: (ok: boolean) => void;
}

function startOffset(offset: ResolvedTopicOptions<unknown, unknown>['offset']): number | undefined {
  if (offset === undefined) return undefined;
  if (offset === 'earliest') return -2;
  if (offset === 'latest') return -1;
  return offset;
}

/**
 * @internal One group member reading one topic: fetches in batches, hands out decoded messages,
 * tracks acknowledgements per partition, commits the contiguous acknowledged prefix periodically,
 * on revocation and on close (or, for exactly-once, sends it with the output's transaction).
 */
export class TopicConsumer<V, K> implements AsyncIterator<ConsumedItem<V, K>> {
  private native: NativeConsumer | undefined;
  private started: Promise<void> | undefined;
  private ready = false;
  private readonly partitions = new Map<number, PartitionOffsets>();
  private buffer: NativeMessage[] = [];
  private head = 0;
  private fetching = false;
  private wake: (() => void) | undefined;
  private error: unknown;
  private stopped = false;
  private barrier: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private transacting: Promise<void> | undefined;
  private rebalances: Promise<void> = Promise.resolve();
  private waiters: Waiter[] = [];
  private disconnecting = false;
  private closing: Promise<void> | undefined;
  /** Items handed out and not yet part of a committable prefix, over all live partitions. */
  private inFlight = 0;
  /** Undecodable messages on their way to the dead-letter topic (acknowledged on delivery). */
  private deadLettering = 0;
  /** Items handed out since the consumer last let the event loop run. */
  private burst = 0;

  constructor(private readonly setup: ConsumerSetup<V, K>) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ConsumedItem<V, K>>> {
    if (this.ready && !this.barrier && this.error === undefined && !this.stopped) {
      if (++this.burst > BURST && this.inFlight > YIELD_IN_FLIGHT) return this.yieldThenNext();
      const item = this.take();
      if (item !== undefined) return Promise.resolve({ done: false, value: item });
    }
    return this.slowNext();
  }

  /**
   * Items from the buffer resolve at once, so a consumer that keeps pulling never returns to the
   * event loop. Delivery reports, which acknowledge the items of a consume-transform-produce
   * snap, then wait behind whole fetches (the binding hands over at most 100 per event-loop
   * turn), and unacknowledged items pile up to the snap's `maxPending` and stay there, each
   * held in memory until its output is delivered (bench/results/kafka.md: 10,000 in flight,
   * 14% of the pipeline's time in GC). So while many items are unacknowledged, let I/O in every
   * BURST items. A handler that acknowledges synchronously never reaches the threshold and
   * never yields.
   */
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
        this.fetch();
      });
    }
  }

  async return(): Promise<IteratorResult<ConsumedItem<V, K>>> {
    await this.close();
    return DONE;
  }

  /** Marks an item done (called through the Topic's `[ack]`); items of revoked partitions are ignored. */
  ackOffset(tracker: PartitionOffsets, offset: number): void {
    if (tracker.retired) return;
    this.setup.stats.acked++;
    const before = tracker.inFlight;
    tracker.ack(offset);
    this.inFlight -= before - tracker.inFlight;
    if (this.waiters.length > 0) this.checkWaiters();
  }

  private async start(): Promise<void> {
    const { topic, options, log } = this.setup;
    const config = this.setup.config();
    const groupId = config['group.id'];
    if (typeof groupId !== 'string' || groupId.length === 0) {
      throw new KafkaError(
        'SNOOPY_KAFKA_CONFIG',
        `Consuming topic ${topic} needs \`group.id\` in the Topic's config or in Conf(), got ${groupId === undefined ? 'none' : JSON.stringify(groupId)}`,
      );
    }
    if (config['enable.auto.commit'] === true || config['enable.auto.commit'] === 'true') {
      log.warn('enable.auto.commit is ignored: offsets are committed only once messages are processed');
    }
    const settings: Record<string, unknown> = {
      ...consumerConfigDefaults,
      ...consumerSettings(config),
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) => {
        this.rebalances = this.rebalances.then(() => this.rebalance(err, assignment)).catch((error: unknown) => {
          log.error({ err: error }, 'rebalance handling failed');
        });
      },
    };
    const transaction = this.setup.transaction();
    if (transaction) {
      // Exactly-once needs the eager protocol: a revocation commits every partition's offsets.
      delete settings['partition.assignment.strategy'];
      await transaction.connect();
    }
    const [globalConf, topicConf] = splitTopicLevel(settings);
    const native = new kafka.KafkaConsumer(globalConf as never, topicConf as never);
    native.on('event.error', (err) => {
      const transient = isTransient(err);
      if (err.isFatal) this.fail(wrapNative('SNOOPY_KAFKA_CONSUME', `Consumer of topic ${topic} failed`, err, { topic }));
      else if (transient) log.debug({ err: err.message, code: err.code }, 'consumer: broker connection problem');
      else log.warn({ err: err.message, code: err.code }, 'consumer error');
    });
    // librdkafka's own logs (with its `debug` setting) go to this logger at debug level.
    native.on('event.log', (entry: { fac?: string; message?: string }) => log.debug({ fac: entry.fac }, entry.message ?? ''));
    const timeoutMs = options.connectTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new KafkaError('SNOOPY_KAFKA_CONNECT', `Could not reach the Kafka brokers at ${bootstrapOf(config)} within ${timeoutMs} ms`));
      }, timeoutMs + 2000);
      native.connect({ timeout: timeoutMs }, (err) => {
        clearTimeout(timer);
        if (err) reject(wrapNative('SNOOPY_KAFKA_CONNECT', `Could not reach the Kafka brokers at ${bootstrapOf(config)} within ${timeoutMs} ms`, err));
        else resolve();
      });
    }).catch((error: unknown) => {
      native.disconnect(() => {});
      throw error;
    });
    native.setDefaultConsumeTimeout(options.fetchTimeoutMs);
    (native as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    // A metadata request for the topic itself lets the broker create a missing topic (with
    // `allow.auto.create.topics`), so the group does not wait for the next metadata refresh.
    await new Promise<void>((resolve) => native.getMetadata({ topic, timeout: timeoutMs }, () => resolve()));
    native.subscribe([topic]);
    this.native = native;
    this.timer = setInterval(() => this.tick(), options.commitIntervalMs);
    this.timer.unref();
    this.ready = true;
    log.debug({ groupId, exactlyOnce: transaction !== undefined }, 'consumer subscribed');
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

  private fetch(): void {
    const native = this.native;
    if (this.fetching || this.stopped || native === undefined || this.disconnecting) return;
    this.fetching = true;
    native.consume(this.setup.options.fetchBatchSize, (err, messages) => {
      this.fetching = false;
      if (err) {
        if ((err as LibrdKafkaError).isFatal) this.fail(wrapNative('SNOOPY_KAFKA_CONSUME', `Could not consume topic ${this.setup.topic}`, err, { topic: this.setup.topic }));
        else this.setup.log.debug({ err: err.message, code: err.code }, 'consume error');
      } else if (messages.length > 0) {
        this.setup.stats.fetched += messages.length;
        if (this.head >= this.buffer.length) {
          this.buffer = messages;
          this.head = 0;
        } else {
          // Keep what is left and append: the array never grows past the unread messages.
          const rest = this.buffer.slice(this.head);
          for (const m of messages) rest.push(m);
          this.buffer = rest;
          this.head = 0;
        }
      }
      this.wakeUp();
    });
  }

  /** The next item to hand out, or undefined when the buffer is empty (a fetch is then under way). */
  private take(): ConsumedItem<V, K> | undefined {
    const buffer = this.buffer;
    if (buffer.length - this.head <= this.setup.options.fetchBatchSize >> 1) this.fetch();
    while (this.head < buffer.length) {
      const m = buffer[this.head]!;
      buffer[this.head++] = undefined as never;
      const tracker = this.partitions.get(m.partition);
      if (tracker === undefined || tracker.revoking || !tracker.track(m.offset)) {
        this.setup.stats.stale++;
        continue;
      }
      this.inFlight++;
      const item = this.decode(tracker, m);
      if (item !== undefined) {
        this.setup.stats.yielded++;
        return item;
      }
    }
    if (this.head >= buffer.length && this.head > 0) {
      this.buffer = [];
      this.head = 0;
    }
    this.fetch();
    return undefined;
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
    const { stats, options, log } = this.setup;
    stats.decodeErrors++;
    const location = { topic: m.topic, partition: m.partition, offset: m.offset };
    const code: ErrorCode = cause instanceof SnoopyError && cause.code.startsWith('SNOOPY_CODEC_') ? cause.code : 'SNOOPY_CODEC_DECODE';
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = new SnoopyError(code, `Could not decode the ${part} of a message with codec ${codecName}: ${reason}`, { cause, location });
    const headers = headersFromNative(m.headers);
    const meta: MessageMeta = { ...location, timestamp: m.timestamp, headers };
    const raw = { key: m.key ?? null, value: m.value, headers };
    if (options.deadLetter === undefined) return new UndecodableMessage(tracker, m.offset, error, meta, raw);

    const dlq = options.deadLetter;
    const out: Array<Record<string, string | Buffer>> = [];
    for (const k in headers) out.push({ [k]: headers[k]! });
    out.push(
      { 'snoopy.error.code': code },
      { 'snoopy.error.message': error.message },
      { 'snoopy.source.topic': m.topic },
      { 'snoopy.source.partition': String(m.partition) },
      { 'snoopy.source.offset': String(m.offset) },
    );
    this.deadLettering++;
    const completion: Completion = {
      done: () => {
        this.deadLettering--;
        stats.deadLettered++;
        this.ackOffset(tracker, m.offset);
      },
      fail: (e: unknown) => {
        this.deadLettering--;
        this.fail(e);
        if (this.waiters.length > 0) this.checkWaiters();
      },
    };
    try {
      const key = m.key === undefined || m.key === null ? null : typeof m.key === 'string' ? Buffer.from(m.key) : m.key;
      void this.setup.deadLetterProducer().produce(dlq, null, m.value, key, null, out, completion);
    } catch (e) {
      this.fail(e);
    }
    log.debug({ ...location, err: error.message, deadLetter: dlq }, 'undecodable message dead-lettered');
    return undefined;
  }

  private tick(): void {
    if (this.stopped || this.barrier) return;
    if (this.setup.transaction()) void this.commitTransaction(this.setup.options.drainTimeoutMs);
    else void this.commit();
  }

  /** Commits every live partition's acknowledged prefix that moved since its last commit. */
  private commit(trackers: Iterable<PartitionOffsets> = this.partitions.values()): Promise<void> {
    const list: PartitionOffsets[] = [];
    for (const t of trackers) if (t.dirty && !t.retired) list.push(t);
    if (list.length === 0 || this.native === undefined) return this.committing ?? Promise.resolve();
    const run = async (): Promise<void> => {
      if (this.committing) await this.committing.catch(() => {});
      // A commit still running when this one was asked for may have covered some partitions already.
      const dirty = list.filter((t) => t.dirty);
      const offsets = dirty.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.committable! }));
      if (offsets.length === 0) return;
      const started = performance.now();
      const native = this.native as NativeConsumer & { commitCb(tp: TopicPartitionOffset[], cb: (err: LibrdKafkaError | null) => void): void };
      await new Promise<void>((resolve) => {
        try {
          native.commitCb(offsets, (err) => {
            const stats = this.setup.stats;
            stats.lastCommitMs = performance.now() - started;
            if (err && err.code !== nativeCodes.NO_OFFSET) {
              stats.commitErrors++;
              this.setup.log.warn({ err: err.message, code: err.code }, 'offset commit failed; will retry');
            } else {
              stats.commits++;
              offsets.forEach((o, i) => (dirty[i]!.committed = o.offset));
              this.setup.log.debug({ offsets }, 'offsets committed');
            }
            resolve();
          });
        } catch (err) {
          this.setup.stats.commitErrors++;
          this.setup.log.warn({ err }, 'offset commit failed; will retry');
          resolve();
        }
      });
    };
    const p = run();
    this.committing = p;
    void p.finally(() => {
      if (this.committing === p) this.committing = undefined;
    });
    return p;
  }

  /**
   * Exactly-once: holds back new messages until every message handed out is acknowledged, then
   * commits the output transaction together with the offsets. Not drained in time: tries again later.
   */
  private commitTransaction(timeoutMs: number, final = false, revoking = false): Promise<void> {
    this.transacting ??= (async () => {
      const producer = this.setup.transaction()!;
      let release!: () => void;
      this.barrier = new Promise((r) => (release = r));
      try {
        if (final) {
          // Closing: once the outputs still in flight are delivered (and so acknowledged), what
          // is not acknowledged was never processed. The prefix is then exact unless some
          // partition has acknowledged items past a gap; then abort (all is reprocessed).
          await producer.flush(this.setup.options.drainTimeoutMs);
          await new Promise((resolve) => setImmediate(resolve));
          for (const t of this.partitions.values()) {
            if (t.ackedBeyondPrefix) {
              this.setup.log.warn({ partition: t.partition }, 'closing with a gap in acknowledged messages: the open transaction is aborted');
              return;
            }
          }
        } else {
          const drained = await this.waitUntil(() => this.inFlight === 0, timeoutMs);
          if (!drained) {
            if (!revoking || this.stopped) return;
            // Outputs of messages still in flight would land in a later transaction, after
            // their partitions moved to another member: stop rather than duplicate them.
            throw new KafkaError(
              'SNOOPY_KAFKA_TRANSACTION',
              `Partitions of topic ${this.setup.topic} were revoked while ${this.inFlight} messages were still in flight after drainTimeoutMs (${timeoutMs} ms); the open transaction is aborted`,
            );
          }
        }
        const trackers = [...this.partitions.values()].filter((t) => t.dirty && !t.retired);
        const offsets = trackers.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.committable! }));
        if (offsets.length === 0 && producer.producedInTransaction === 0) return;
        const started = performance.now();
        await producer.commitTransaction(offsets, this.native);
        trackers.forEach((t, i) => (t.committed = offsets[i]!.offset));
        if (offsets.length > 0) this.setup.stats.commits++;
        this.setup.stats.lastCommitMs = performance.now() - started;
      } catch (error) {
        this.fail(error);
      } finally {
        this.barrier = undefined;
        this.transacting = undefined;
        release();
        this.wakeUp();
      }
    })();
    return this.transacting;
  }

  private waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
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

  private retire(tracker: PartitionOffsets): void {
    if (tracker.retired) return;
    this.inFlight -= tracker.inFlight;
    tracker.retired = true;
    if (this.partitions.get(tracker.partition) === tracker) this.partitions.delete(tracker.partition);
    if (this.waiters.length > 0) this.checkWaiters();
  }

  private async rebalance(err: LibrdKafkaError | undefined, assignment: TopicPartition[]): Promise<void> {
    const native = this.native;
    if (native === undefined) return;
    const { log, stats, seen, topic, options } = this.setup;
    let cooperative = false;
    try {
      cooperative = (native as unknown as { rebalanceProtocol(): string }).rebalanceProtocol() === 'COOPERATIVE';
    } catch {}
    if (err?.code === nativeCodes.ASSIGN_PARTITIONS) {
      const start = startOffset(options.offset);
      const list = assignment.map((tp) => {
        const existing = this.partitions.get(tp.partition);
        if (existing) this.retire(existing);
        this.partitions.set(tp.partition, new PartitionOffsets(tp.topic, tp.partition, this));
        stats.assigned++;
        const first = !seen.has(tp.partition);
        seen.add(tp.partition);
        return first && start !== undefined ? { topic: tp.topic, partition: tp.partition, offset: start } : { topic: tp.topic, partition: tp.partition };
      });
      log.info({ partitions: assignment.map((tp) => tp.partition) }, 'partitions assigned');
      try {
        if (cooperative) (native as unknown as { incrementalAssign(a: unknown[]): void }).incrementalAssign(list);
        else native.assign(list);
      } catch (error) {
        if (!this.disconnecting) log.warn({ err: error }, 'assign failed');
      }
      this.wakeUp();
      return;
    }
    if (err?.code === nativeCodes.REVOKE_PARTITIONS) {
      let lost = false;
      try {
        lost = (native as unknown as { assignmentLost(): boolean }).assignmentLost();
      } catch {}
      const trackers = assignment.map((tp) => this.partitions.get(tp.partition)).filter((t): t is PartitionOffsets => t !== undefined);
      for (const t of trackers) t.revoking = true;
      if (!lost && !this.disconnecting) {
        if (this.setup.transaction()) {
          if (this.transacting) await this.transacting;
          await this.commitTransaction(options.drainTimeoutMs, false, true);
        } else {
          await this.waitUntil(() => trackers.every((t) => t.inFlight === 0), options.drainTimeoutMs);
          await this.commit(trackers);
        }
      }
      for (const t of trackers) this.retire(t);
      stats.revoked += trackers.length;
      log.info({ partitions: assignment.map((tp) => tp.partition), lost, topic }, 'partitions revoked');
      try {
        if (cooperative) (native as unknown as { incrementalUnassign(a: unknown[]): void }).incrementalUnassign(assignment);
        else native.unassign();
      } catch (error) {
        if (!this.disconnecting) log.warn({ err: error }, 'unassign failed');
      }
      return;
    }
    log.error({ err: err?.message, code: err?.code }, 'rebalance error');
  }

  /** Stops fetching, waits (bounded) for handed-out messages, commits, leaves the group. Idempotent. */
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
      clearInterval(this.timer);
      const native = this.native!;
      const { log } = this.setup;
      // Core calls return() once its in-flight work is done: what is not acknowledged now was
      // never processed (an item pulled while stopping) and is redelivered. Nothing to wait for.
      if (this.inFlight > 0) log.debug({ inFlight: this.inFlight }, 'closing with unacknowledged messages; they will be redelivered');
      if (this.deadLettering > 0) {
        // Dead letters are acknowledged by their delivery reports: let them land first.
        void this.setup.deadLetterProducer().flush(this.setup.options.drainTimeoutMs);
        await this.waitUntil(() => this.deadLettering === 0, this.setup.options.drainTimeoutMs);
      }
      if (this.transacting) await this.transacting;
      if (this.setup.transaction()) {
        if (this.error === undefined) await this.commitTransaction(0, true);
      } else {
        await this.commit();
        if (this.committing) await this.committing;
      }
      await this.rebalances;
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
    })();
    return this.closing;
  }
}
