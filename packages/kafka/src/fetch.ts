import type { KafkaConsumer as NativeConsumer, LibrdKafkaError, Message as NativeMessage } from '@confluentinc/kafka-javascript';
import type { PartitionOffsets } from './offsets.js';

/** What the fetcher tells its consumer. */
export interface FetchEvents {
  /** Messages arrived (or a fetch ended empty): a waiting `next()` may go on. */
  wake(): void;
  /** A fetch failed; `fatal` errors end the consumer, the rest are logged by it. */
  failed(error: LibrdKafkaError): void;
  /** The partitions currently assigned (for pausing all of them when the buffer is full). */
  partitions(): Iterable<PartitionOffsets>;
  /** Counts fetched messages. */
  fetched(count: number): void;
}

/**
 * @internal The read-ahead of one consumer: `consume(n)` batches from librdkafka into a buffer
 * that `take()` empties, and the polling that keeps the group membership alive.
 *
 * librdkafka counts `max.poll.interval.ms` from the last `consume()` call. The consumer is pulled
 * by core, and core stops pulling while its handlers are busy (at `concurrency`/`maxPending`), so
 * pulls alone would let a slow handler cost the membership: the partitions move, the
 * acknowledgements of everything in flight are dropped, and the messages run again elsewhere.
 * So a timer polls whenever nobody fetched for `keepAliveMs`. If the buffer still holds messages
 * then (core is busy), every assigned partition is paused first, so the poll serves rebalances and
 * heartbeats without reading more into memory; they resume once core drains the buffer. A partition
 * is also paused while it holds `maxUnackedPerPartition` unacknowledged messages (`cap()`), so one
 * stuck message cannot make its partition's offset tracking grow without bound.
 */
export class Fetcher {
  private buffer: NativeMessage[] = [];
  private head = 0;
  private consuming = false;
  private stopped = false;
  /** Set while every partition is paused because core is not draining the buffer. */
  private full = false;
  /** Set while closing: every partition paused, polling on only to serve commit results and rebalances. */
  private quiet = false;
  private lastFetch = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly native: NativeConsumer,
    private readonly topic: string,
    private readonly batchSize: number,
    keepAliveMs: number,
    private readonly events: FetchEvents,
  ) {
    this.timer = setInterval(() => this.keepAlive(keepAliveMs), Math.max(1, keepAliveMs >> 1));
    this.timer.unref();
  }

  /** A `consume()` is under way (its result may be waiting for the event loop). */
  get fetching(): boolean {
    return this.consuming;
  }

  /** Messages fetched and not yet taken. */
  get buffered(): number {
    return this.buffer.length - this.head;
  }

  /** The next fetched message, or undefined when the buffer is empty (a fetch is then under way). */
  take(): NativeMessage | undefined {
    const buffer = this.buffer;
    const left = buffer.length - this.head;
    if (left <= this.batchSize >> 1) {
      if (this.full) this.unblock();
      this.fill();
    }
    if (left === 0) {
      if (this.head > 0) {
        // Emptied in place: the buffer stays an array of the kind the binding makes, so the
        // compiled take() and append() never meet a second kind (a fresh `[]` deoptimized them).
        buffer.length = 0;
        this.head = 0;
      }
      return undefined;
    }
    const m = buffer[this.head]!;
    buffer[this.head++] = undefined as never;
    return m;
  }

  /** Starts a `consume()` unless one is running. */
  fill(): void {
    if (this.consuming || this.stopped) return;
    this.consuming = true;
    this.lastFetch = performance.now();
    this.native.consume(this.batchSize, (err, messages) => {
      this.consuming = false;
      this.lastFetch = performance.now();
      if (this.quiet) {
        // librdkafka serves commit results (offset_commit_cb) only while the application polls.
        this.fill();
        return;
      }
      if (err) this.events.failed(err as LibrdKafkaError);
      else if (messages.length > 0) {
        this.events.fetched(messages.length);
        this.append(messages);
      }
      this.events.wake();
    });
  }

  private append(messages: NativeMessage[]): void {
    if (this.head >= this.buffer.length) {
      this.buffer = messages;
      this.head = 0;
      return;
    }
    // Keep what is left and append: the array never grows past the unread messages.
    const rest = this.buffer.slice(this.head);
    for (const m of messages) rest.push(m);
    this.buffer = rest;
    this.head = 0;
  }

  private keepAlive(keepAliveMs: number): void {
    if (this.stopped || this.consuming || performance.now() - this.lastFetch < keepAliveMs) return;
    if (this.buffered > 0 && !this.full) {
      this.full = true;
      for (const t of this.events.partitions()) this.apply(t);
    }
    this.fill();
  }

  private unblock(): void {
    this.full = false;
    for (const t of this.events.partitions()) this.apply(t);
  }

  /** Pauses `tracker`'s partition until `uncap()`: it holds too many unacknowledged messages. */
  cap(tracker: PartitionOffsets): void {
    tracker.capped = true;
    this.apply(tracker);
  }

  uncap(tracker: PartitionOffsets): void {
    tracker.capped = false;
    this.apply(tracker);
  }

  /** A newly assigned partition starts paused when the buffer is full. */
  assigned(tracker: PartitionOffsets): void {
    if (this.full) this.apply(tracker);
  }

  /**
   * Closing: nothing more is handed out, but the final commit's result only arrives while the
   * consumer polls. Pauses every partition and polls continuously until `stop()`.
   */
  quiesce(): void {
    if (this.stopped) return;
    this.quiet = true;
    for (const t of this.events.partitions()) this.apply(t);
    this.fill();
  }

  /** Pauses or resumes the partition so that it is paused exactly while capped or the buffer is full. */
  private apply(t: PartitionOffsets): void {
    const pause = (t.capped || this.full || this.quiet) && !t.retired;
    if (pause === t.paused || (t.retired && !t.paused)) return;
    const list = [{ topic: this.topic, partition: t.partition }];
    try {
      if (pause) this.native.pause(list);
      else this.native.resume(list);
      t.paused = pause;
    } catch {
      // The partition is no longer assigned (a rebalance is under way): nothing to pause.
    }
  }

  /** Stops fetching and polling; what is buffered stays readable. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
