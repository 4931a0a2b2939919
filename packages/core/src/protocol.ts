/**
 * The contracts between core and the sources and sinks that need more than "an iterable" and
 * "a function": acknowledgement (a source learns when a message is fully done), deferred
 * completion (a sink finishes many messages at once, without a promise each), message metadata,
 * and items a source could not deliver. Other packages (Kafka, Cache) implement them; users can too.
 */
import type { MessageLocation } from './errors.js';

/** Key of the method core calls on a source when one of its items is fully processed. */
export const ack: unique symbol = Symbol.for('snoopy.ack') as never;
/** Key of the method core calls to hand a value to a sink that completes later, in batches. */
export const deliver: unique symbol = Symbol.for('snoopy.deliver') as never;
/** Key of the method core calls to ask a source about one of its items (key, topic, offset...). */
export const describe: unique symbol = Symbol.for('snoopy.describe') as never;
/** Key of an optional method core calls on sinks when a stream drains, to hurry pending work. */
export const flush: unique symbol = Symbol.for('snoopy.flush') as never;
/** Key of an optional method core calls on a source at each progress redraw and for the summary. */
export const progress: unique symbol = Symbol.for('snoopy.progress') as never;
/** Key of an optional method core calls once on each sink when a stream that uses it starts. */
export const open: unique symbol = Symbol.for('snoopy.open') as never;
/** Key of an optional method of an async iterator: the next item if it is at hand now, without a promise. */
export const take: unique symbol = Symbol.for('snoopy.take') as never;

/**
 * A source that wants to know when each item it yielded is done.
 *
 * Core calls `[ack](item)` exactly once per item, when every snap bound to the source has
 * finished with it: the handler returned and every sink completed for every output, or its failure
 * was handled by the snap's error policy (skipped or dead-lettered). Items are acknowledged in any
 * order; the source decides what that allows it to commit (Kafka: the contiguous prefix per
 * partition). An item whose processing failed under `errors: 'stop'` is never acknowledged.
 */
export interface Acknowledging<T = unknown> {
  [ack](item: T): void;
}

/**
 * Completion handle passed to a deferred sink. One handle may be passed to several sinks and for
 * several values: for every `[deliver]` call the sink must later call exactly one of `done()` or
 * `fail(error)`, exactly once. The handle is core's own record of the message: no promise and
 * no allocation per delivery.
 */
export interface Completion {
  done(): void;
  fail(error: unknown): void;
}

/**
 * A sink that completes outputs later and in batches (Kafka delivery reports, coalesced LevelDB
 * writes). Core calls `[deliver](value, completion)` instead of calling the sink; the sink calls
 * `completion.done()` once the value is durable. Throwing synchronously fails that message at
 * once. A sink that has too much outstanding work may return a promise: core then waits for it
 * before it delivers more (backpressure), without waiting for the completion itself.
 */
export interface DeferredSink<T = unknown> {
  [deliver](value: T, completion: Completion): void | Promise<void>;
}

/** Metadata of one message, as far as its source knows it. */
export interface MessageMeta extends MessageLocation {
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, unknown>>;
}

/**
 * A source that can describe its items. Core uses the key for per-key ordering under
 * concurrency, and the rest for the handler's context and for error messages.
 */
export interface Describing<T = unknown> {
  [describe](item: T): MessageMeta;
}

/**
 * An async iterator that reads ahead into a buffer (a Kafka consumer) may let core take buffered
 * items synchronously: `[take]()` returns the next item when one is at hand, or `undefined` when
 * core should call `next()` instead (the buffer is empty, the source is done, failed or
 * stopping, or it wants the event loop to run first). An item taken is handed out exactly as if
 * `next()` had resolved with it; an item that is itself `undefined` must come through `next()`.
 * Core calls it only from its pull loop, before each `next()`; it saves a promise and an
 * iterator result per item.
 */
export interface Taking<T = unknown> {
  [take](): T | undefined;
}

/**
 * A sink that must connect before it can take values (a Kafka producer). Core calls `[open]()`
 * once per stream, on every sink of its snaps, before it reads any source, and does not wait:
 * the sink starts connecting while the sources connect, instead of at the first value, which
 * would hold the first messages until then. It must not throw or reject: a sink that cannot
 * connect reports that when values are delivered to it. A throw or rejection is a bug of the
 * sink and fails the stream with SNOOPY_SNAP_SINK.
 */
export interface Opening {
  [open](): void | Promise<void>;
}

/** A sink with work that can be hurried when the stream drains. */
export interface Flushing {
  [flush](): Promise<void>;
}

/** What a source reports about its own progress; every field optional. */
export interface ProgressReport {
  /** Items the source has read so far (its own count; core's bar counts messages handled). */
  readonly loaded?: number;
  /** Items the source will yield in all, once it knows; drives the progress bar's total. */
  readonly total?: number;
  /** A short note shown after the bar (the page or file being read). */
  readonly message?: string;
  /**
   * Messages still waiting to be read (a Kafka consumer group's lag summed over its assigned
   * partitions), when the source can tell; shown in the periodic progress line.
   */
  readonly lag?: number;
}

/**
 * A source that knows how far it is, and maybe how much it holds, only while it runs (a paged
 * API that learns its row count from the first page). Core calls `[progress]()` at each redraw
 * of its progress bar and once for the stream's summary; `undefined` means "nothing to report
 * yet". It must be cheap and must not throw.
 */
export interface Reporting {
  [progress](): ProgressReport | undefined;
}

/**
 * An item a source could not deliver (for example a Kafka message whose bytes did not decode).
 * A source yields it in place of the item; core skips the handler and applies the snap's error
 * policy to `error`, then acknowledges it like any other item if the policy let it pass.
 */
export class FailedItem {
  constructor(
    readonly error: unknown,
    readonly meta: MessageMeta = {},
    /** What the source received, for a dead-letter sink (raw bytes, say). */
    readonly raw?: unknown,
  ) {}
}

export function isAcknowledging(source: unknown): source is Acknowledging {
  return typeof (source as Partial<Acknowledging> | null)?.[ack] === 'function';
}

export function isDeferredSink(sink: unknown): sink is DeferredSink {
  return typeof (sink as Partial<DeferredSink> | null)?.[deliver] === 'function';
}

export function isDescribing(source: unknown): source is Describing {
  return typeof (source as Partial<Describing> | null)?.[describe] === 'function';
}

export function isReporting(source: unknown): source is Reporting {
  return typeof (source as Partial<Reporting> | null)?.[progress] === 'function';
}

export function isOpening(sink: unknown): sink is Opening {
  return typeof (sink as Partial<Opening> | null)?.[open] === 'function';
}

export function isFlushing(sink: unknown): sink is Flushing {
  return typeof (sink as Partial<Flushing> | null)?.[flush] === 'function';
}
