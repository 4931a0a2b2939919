import type { Completion, MessageMeta } from '../protocol.js';
import type { Source } from '../options.js';

/** The source an item came from, as a snap sees it. */
export interface Origin {
  readonly source: Source;
  meta(item: unknown): MessageMeta;
}

/** Fan-out bookkeeping for one item of an acknowledging source. */
export interface Delivery {
  readonly item: unknown;
  /** Snaps still working on the item; the source is acknowledged when it reaches 0. */
  remaining: number;
  readonly ack: (item: unknown) => void;
}

/** Where a failure happened inside a snap. */
export type Stage = 'handler' | 'sink' | 'source';

/** Thrown inside the pipeline to carry the stage along with the original error. */
export class StageFailure {
  constructor(
    readonly stage: Stage,
    readonly error: unknown,
  ) {}
}

export interface JobOwner {
  settled(job: Job): void;
}

/**
 * One unit of work in a snap: a message (or a batch of messages) from handler to the last sink.
 * It is also the `Completion` handed to deferred sinks: `pending` counts the emission phase plus
 * each outstanding deferred delivery, so no promise is made per delivery.
 */
export class Job implements Completion {
  pending = 1;
  failure: StageFailure | undefined = undefined;
  attempt = 1;
  /** True while counted in the owner's outstanding deferred jobs. */
  counted = false;

  constructor(
    readonly owner: JobOwner,
    /** The message, or the array of messages of a batch. */
    readonly input: unknown,
    /** Per-item acknowledgement bookkeeping (an array for a batch); null when no source needs it. */
    readonly deliveries: Delivery | (Delivery | null)[] | null,
    readonly origin: Origin,
  ) {}

  done(): void {
    if (--this.pending === 0) this.owner.settled(this);
  }

  fail(error: unknown): void {
    this.failure ??= error instanceof StageFailure ? error : new StageFailure('sink', error);
    this.done();
  }
}

export function acknowledge(deliveries: Job['deliveries']): void {
  if (deliveries === null) return;
  if (Array.isArray(deliveries)) {
    for (const d of deliveries) if (d !== null && --d.remaining === 0) d.ack(d.item);
  } else if (--deliveries.remaining === 0) {
    deliveries.ack(deliveries.item);
  }
}
