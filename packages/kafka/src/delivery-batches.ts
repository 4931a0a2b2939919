import type { DeliveryReport, LibrdKafkaError, Producer as NativeProducer } from '@confluentinc/kafka-javascript';
import type { Completion, Logger } from '@snoopy/core';
import { nativeCodes, wrapNative } from './errors.js';
import type { ProducerStats } from './producer.js';

/**
 * The messages produced between two flushes, in produce order (parallel arrays: no object per
 * message). Two epochs take turns (open, then sealed while its flush runs, then open again), so
 * their arrays are allocated once and keep one element kind: `size` counts the live entries,
 * and `clear()` drops the references a confirmed epoch held.
 */
class Epoch {
  readonly completions: Array<Completion | undefined> = [];
  readonly topics: string[] = [];
  readonly keys: Array<Buffer | null> = [];
  readonly values: Array<Buffer | null> = [];
  size = 0;

  add(topic: string, key: Buffer | null, value: Buffer | null, completion: Completion): void {
    const i = this.size++;
    this.completions[i] = completion;
    this.topics[i] = topic;
    this.keys[i] = key;
    this.values[i] = value;
  }

  /** Forgets every entry (the epoch was confirmed): nothing it held stays reachable. */
  clear(): void {
    const { completions, keys, values } = this;
    for (let i = 0; i < this.size; i++) {
      completions[i] = undefined;
      keys[i] = null;
      values[i] = null;
    }
    this.size = 0;
  }

  /** Fails the first message still owed that has this topic, key and value; false when none has. */
  failMatching(topic: string, key: Buffer | null, value: Buffer | null, error: unknown): boolean {
    const { completions, topics, keys, values } = this;
    for (let i = 0; i < this.size; i++) {
      const c = completions[i];
      if (c === undefined || topics[i] !== topic || !same(keys[i]!, key) || !same(values[i]!, value)) continue;
      completions[i] = undefined;
      settle(c, error);
      return true;
    }
    return false;
  }

  /** Fails every message still owed to `topic`. */
  failAll(topic: string, error: unknown): void {
    const { completions, topics } = this;
    for (let i = 0; i < this.size; i++) {
      const c = completions[i];
      if (c === undefined || topics[i] !== topic) continue;
      completions[i] = undefined;
      settle(c, error);
    }
  }
}

/** Fails a completion; one that throws is a bug of its owner, which core reports. */
function settle(c: Completion, error: unknown): void {
  try {
    c.fail(error);
  } catch {
    // Core's completions do not throw; a custom sink's bug must not stop the other failures.
  }
}

const same = (a: Buffer | null, b: Buffer | null | undefined): boolean => (a === null ? b === null || b === undefined : b != null && a.equals(b));

/** How long one librdkafka `flush()` may block its thread-pool thread before it is called again. */
const FLUSH_SLICE_MS = 1000;
/** Wait before trying again a flush that failed for another reason than its timeout. */
const FLUSH_RETRY_MS = 100;

/**
 * @internal Delivery acknowledged by flush instead of by a report per message: the producer
 * runs with `delivery.report.only.error`, so librdkafka calls back only for messages that
 * failed, and a `flush()` that returns means every message produced before it began was either
 * delivered or reported failed.
 *
 * Messages are collected into the open epoch as they are produced. When no flush runs, the open
 * epoch is sealed and flushed (at the next turn of the event loop, so a burst of produce calls
 * shares one flush); messages produced meanwhile form the next epoch. A sealed epoch's messages
 * are confirmed (`completion.done()`) only once its flush returned AND the failure reports queued
 * before that are handled: the binding hands reports to JavaScript on its own async handle, up
 * to 100 per event-loop turn, so confirmation waits until a whole turn passed without a report.
 *
 * A failure report names the topic, key and value of the failed message (`dr_msg_cb`), not its
 * completion (an opaque per message would leak: only failures free it). It fails the first owed
 * message with the same topic, key and value; byte-identical messages to one topic are
 * interchangeable, so which of them is failed does not matter. A report that matches no owed
 * message (which should not happen) fails every owed message of its topic: they are sent again
 * or dead-lettered, duplicates rather than a loss.
 */
export class DeliveryBatches {
  private open = new Epoch();
  private sealed: Epoch | undefined;
  /** The other epoch, empty, while no flush runs: the next one to open. */
  private spare: Epoch | undefined = new Epoch();
  private scheduled = false;
  /** Failure reports handled so far (confirmation waits for a turn without a new one). */
  private reports = 0;
  private idle: Array<() => void> = [];
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly native: NativeProducer,
    private readonly stats: ProducerStats,
    private readonly log: Logger,
    /** Called when a flush ended: the producer hands over what it held meanwhile. */
    private readonly released: () => void,
  ) {}

  /**
   * True while a flush runs. The producer holds new messages meanwhile: librdkafka sends every
   * queued message at once while it flushes (as if `linger.ms` were 0), and a produce() call
   * during a flush wakes its broker thread each time; measured, that made produce() 3.6 times
   * slower.
   */
  get flushing(): boolean {
    return this.sealed !== undefined;
  }

  /** Messages produced and not yet confirmed or failed. */
  get owed(): number {
    return this.open.size + (this.sealed?.size ?? 0);
  }

  /** Records a message librdkafka accepted; its completion settles with its epoch. */
  add(topic: string, key: Buffer | null, value: Buffer | null, completion: Completion): void {
    this.open.add(topic, key, value, completion);
    if (this.sealed === undefined && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.seal);
    }
  }

  /** A delivery report: with `delivery.report.only.error`, always a failure. */
  report(err: LibrdKafkaError | null | undefined, report: DeliveryReport): void {
    this.reports++;
    if (!err) return; // not expected in this mode; the flush confirms it
    this.stats.deliveryErrors++;
    const error = wrapNative('SNOOPY_KAFKA_PRODUCE', `Could not deliver a message to topic ${report.topic}`, err, { topic: report.topic, partition: report.partition });
    const key = report.key ?? null;
    const value = (report as DeliveryReport & { value?: Buffer | null }).value ?? null;
    if (this.sealed?.failMatching(report.topic, key as Buffer | null, value, error) || this.open.failMatching(report.topic, key as Buffer | null, value, error)) return;
    this.log.warn({ code: 'SNOOPY_KAFKA_PRODUCE', topic: report.topic, partition: report.partition }, 'a delivery failure matched no message in flight: failing every message in flight to its topic');
    this.sealed?.failAll(report.topic, error);
    this.open.failAll(report.topic, error);
  }

  /** Resolves once every message added so far is confirmed or failed. */
  settled(): Promise<void> {
    if (this.owed === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops flushing (the producer disconnects); what is owed stays unsettled. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  private readonly seal = (): void => {
    this.scheduled = false;
    if (this.stopped || this.sealed !== undefined || this.open.size === 0) return;
    this.sealed = this.open;
    this.open = this.spare!;
    this.spare = undefined;
    this.flush();
  };

  private flush(): void {
    try {
      this.native.flush(FLUSH_SLICE_MS, (err) => {
        if (this.stopped) return;
        if (!err) return this.afterReports(this.reports);
        // A timeout: messages are still in flight (librdkafka fails them after message.timeout.ms).
        if ((err as { code?: number }).code === nativeCodes.TIMED_OUT) return this.flush();
        this.retryLater(err);
      });
    } catch (error) {
      this.retryLater(error);
    }
  }

  /**
   * A flush that could not run (the binding says the producer is disconnected): what is owed
   * stays owed (never confirmed without a flush), and the flush is tried again in a while rather
   * than at once, until `stop()`.
   */
  private retryLater(error: unknown): void {
    this.log.debug({ err: error }, 'flush failed; trying again');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.flush();
    }, FLUSH_RETRY_MS);
    this.retryTimer.unref();
  }

  /** Confirms the sealed epoch once a whole event-loop turn brought no failure report. */
  private afterReports(seen: number): void {
    setImmediate(() => {
      if (this.stopped) return;
      if (this.reports !== seen) return this.afterReports(this.reports);
      this.confirm();
    });
  }

  private confirm(): void {
    const epoch = this.sealed!;
    this.sealed = undefined;
    let delivered = 0;
    const completions = epoch.completions;
    for (let i = 0; i < epoch.size; i++) {
      const c = completions[i];
      if (c === undefined) continue;
      delivered++;
      try {
        c.done();
      } catch (error) {
        this.log.error({ err: error }, 'a completion threw');
      }
    }
    epoch.clear();
    this.spare = epoch;
    this.stats.delivered += delivered;
    this.released();
    if (this.open.size === 0 && this.idle.length > 0) {
      const idle = this.idle;
      this.idle = [];
      for (const resolve of idle) resolve();
    }
  }
}
