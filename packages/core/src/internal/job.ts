import type { Completion, MessageMeta } from '../protocol.js';
import type { Source } from '../options.js';

/** The source an item came from, as a snap sees it. */
export interface Origin {
  readonly source: Source;
  meta(item: unknown): MessageMeta;
}

/**
 * How a job tells an acknowledging source that one of its items is done for this snap:
 * `settle(item)` once per item.
 */
export interface Delivery {
  settle(item: unknown): void;
}

/**
 * The item of a source bound to one snap only: done for that snap means done, so one object
 * per source serves every item (no bookkeeping per message).
 */
export class SoleDelivery implements Delivery {
  constructor(private readonly ack: (item: unknown) => void) {}

  settle(item: unknown): void {
    this.ack(item);
  }
}

/** The item of a source bound to several snaps: acknowledged when the last of them settles it. */
export class SharedDelivery implements Delivery {
  constructor(
    private readonly item: unknown,
    /** Snaps still working on the item. */
    private remaining: number,
    private readonly ack: (item: unknown) => void,
  ) {}

  settle(): void {
    if (--this.remaining === 0) this.ack(this.item);
  }
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

/** Wraps anything thrown in the pipeline as a StageFailure (handler stage unless it says otherwise). */
export function asFailure(error: unknown, stage: Stage = 'handler'): StageFailure {
  return error instanceof StageFailure ? error : new StageFailure(stage, error);
}

export interface JobOwner {
  settled(job: Job): void;
}

/** Lifecycle of a job inside a key lane (concurrency > 1). */
export const LaneState = {
  /** Its handler is running. */
  Running: 0,
  /** Its handler returned; `result` holds the value. */
  Ready: 1,
  /** Its handler failed; `result` holds the StageFailure. */
  Failed: 2,
  /** At the head of its lane, emitting (or retrying). */
  Emitting: 3,
} as const;
export type LaneState = (typeof LaneState)[keyof typeof LaneState];

/**
 * One unit of work in a snap: a message (or a batch of messages) from its handler to the last
 * sink. It is also the `Completion` handed to deferred sinks: `pending` counts the emission phase
 * plus each outstanding deferred delivery, so no promise is made per delivery. When `pending`
 * reaches 0 the owner settles it: acknowledge, or apply the error policy.
 */
export class Job implements Completion {
  pending = 1;
  /** Set by a deferred sink's `fail`, or by the error policy when the job gives up. */
  failure: StageFailure | undefined = undefined;
  attempt = 1;
  /** True while counted in the admission's `outstanding`. */
  counted = false;
  /** The stream halted while the job waited: it is neither acknowledged nor reported. */
  abandoned = false;

  /** The handler's outputs, kept when a sink retry must re-deliver them (retry policy, direct calls). */
  outputs: unknown[] | undefined = undefined;
  /** Where emission stopped on a sink failure (value index, sink index); -1 when it did not. */
  resumeValue = -1;
  resumeSink = 0;
  /** Deferred deliveries that failed, as flat (value index, sink index) pairs, to deliver again. */
  redo: number[] | undefined = undefined;

  /** Key lanes: the next job of the same lane, the handler's result and the job's state. */
  next: Job | null = null;
  result: unknown = undefined;
  state: LaneState = LaneState.Running;

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
    this.failure ??= asFailure(error, 'sink');
    this.done();
  }
}

/**
 * The completion of one deferred delivery when a retry may have to deliver it again: it records
 * which value and which sink failed, so the retry re-delivers only that, without re-running the
 * handler. Used only under a retry policy; otherwise the job itself is the completion.
 */
export class SinkCompletion implements Completion {
  constructor(
    private readonly job: Job,
    private readonly value: number,
    private readonly sink: number,
  ) {}

  done(): void {
    this.job.done();
  }

  fail(error: unknown): void {
    (this.job.redo ??= []).push(this.value, this.sink);
    this.job.fail(error);
  }
}

/** Tells the source(s) that a job's message(s) are done for this snap. */
export function acknowledge(job: Job): void {
  const deliveries = job.deliveries;
  if (deliveries === null) return;
  if (Array.isArray(deliveries)) {
    // A batch: `input` holds the items, in the order of their deliveries.
    const items = job.input as unknown[];
    for (let i = 0; i < deliveries.length; i++) deliveries[i]?.settle(items[i]);
  } else deliveries.settle(job.input);
}
