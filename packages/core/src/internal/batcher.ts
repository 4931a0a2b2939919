import type { Delivery, Origin } from './job.js';

/** A full or due batch, taken out of the batcher. */
export interface Batch {
  readonly items: unknown[];
  readonly deliveries: (Delivery | null)[] | null;
  readonly origin: Origin;
}

/**
 * Collects a snap's messages into arrays of up to `size`. A partial batch is due `ms` after its
 * first message; then `onDue` is called (the runner hands it on once it has capacity).
 *
 * One timer serves many batches: it is armed by the first message of a batch when none is
 * armed, and when it fires it either finds the current batch due or re-arms for the rest of its
 * time; batches that fill up never touch it (a timer per batch costs more than the batch). `stop()`
 * clears it when the snap's sources are done; `cancel()` also drops what was collected: after a
 * failure under `errors: 'stop'` those messages are neither handled nor acknowledged.
 */
export class Batcher {
  private items: unknown[] = [];
  /** Only made when an item has a delivery (its source acknowledges): none for plain sources. */
  private deliveries: (Delivery | null)[] | null = null;
  private origin: Origin | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** When the first message of the current batch arrived (performance.now()). */
  private startedAt = 0;
  /** The timer fired: the partial batch should go as soon as the snap has room. */
  due = false;

  constructor(
    readonly size: number,
    private readonly ms: number,
    private readonly onDue: () => void,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** Adds one message; true when the batch is now full (take it). */
  add(item: unknown, delivery: Delivery | null, origin: Origin): boolean {
    const n = this.items.push(item);
    if (delivery !== null) {
      this.deliveries ??= new Array<Delivery | null>(n - 1).fill(null);
      this.deliveries.push(delivery);
    } else if (this.deliveries !== null) this.deliveries.push(null);
    if (n === 1) {
      this.origin = origin;
      if (this.size > 1) {
        this.startedAt = performance.now();
        this.timer ??= setTimeout(this.fire, this.ms);
      }
    }
    return n >= this.size;
  }

  private readonly fire = (): void => {
    this.timer = null;
    if (this.items.length === 0) return;
    const left = this.startedAt + this.ms - performance.now();
    if (left > 1) {
      this.timer = setTimeout(this.fire, left);
      return;
    }
    this.due = true;
    this.onDue();
  };

  /** Takes what was collected (the caller checked it is not empty); the timer stays for the next batch. */
  take(): Batch {
    this.due = false;
    const batch = { items: this.items, deliveries: this.deliveries, origin: this.origin! };
    this.items = [];
    this.deliveries = null;
    this.origin = null;
    return batch;
  }

  /** Clears the timer (the snap's sources are done and the last batch was taken). */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Stops the timer and drops the partial batch; returns how many messages were dropped. */
  cancel(): number {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.due = false;
    const dropped = this.items.length;
    this.items = [];
    this.deliveries = null;
    this.origin = null;
    return dropped;
  }
}
