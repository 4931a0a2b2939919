import type { Logger } from 'pino';
import { SnapError, type SnoopyError } from '../errors.js';
import { DeadLetter } from '../dead-letter.js';
import { deliver, FailedItem, isDeferredSink, type Completion, type DeferredSink, type MessageMeta } from '../protocol.js';
import type { ResolvedSnapOptions, Sink } from '../options.js';
import type { SnapContext, SnapSummary } from '../context.js';
import { acknowledge, Job, StageFailure, type Delivery, type Origin, type Stage } from './job.js';

/** What a runner needs from the stream run it belongs to. */
export interface RunControl {
  readonly stopping: boolean;
  readonly signal: AbortSignal;
  fail(error: SnoopyError): void;
}

export interface SnapDefinition {
  readonly name: string;
  readonly sources: readonly import('../options.js').Source[];
  readonly handler: (...args: any[]) => unknown;
  readonly options: ResolvedSnapOptions;
}

type PlainSink = (value: unknown) => unknown;
type Thenable = PromiseLike<unknown>;

const toTag = Object.prototype.toString;
const noop = (): void => {};
const resolved = Promise.resolve();

function isThenable(value: unknown): value is Thenable {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as Thenable).then === 'function';
}

function rethrowAs(stage: Stage): (error: unknown) => never {
  return (error) => {
    throw error instanceof StageFailure ? error : new StageFailure(stage, error);
  };
}
const rethrowHandler = rethrowAs('handler');
const rethrowSink = rethrowAs('sink');

const stageCodes = {
  handler: 'SNOOPY_SNAP_HANDLER',
  sink: 'SNOOPY_SNAP_SINK',
  source: 'SNOOPY_SOURCE_ITEM',
} as const;

interface Lane {
  tail: Promise<void>;
  size: number;
}

/**
 * Runs one snap inside one stream: calls the handler for each message it is given, sends every
 * output to the sinks in order, applies the error policy, and acknowledges each message once its
 * handler and sinks have finished. Synchronous handlers and sinks run without any promise.
 */
export class Runner {
  readonly name: string;
  readonly stats = { in: 0, out: 0, errors: 0, skipped: 0, deadLettered: 0, retries: 0 };
  /** Known number of messages the sources hold, for progress bars; undefined when unknown. */
  total: number | undefined = 0;

  private readonly handler: (...args: any[]) => unknown;
  private readonly sinks: readonly Sink[];
  private readonly deferred: readonly boolean[];
  private readonly hasDeferred: boolean;
  private readonly wantsContext: boolean;
  private readonly concurrency: number;
  private readonly maxPending: number;
  private readonly lanes: Map<unknown, Lane> | null;
  private readonly debug: boolean;
  /** No batches and no concurrency: messages go through one at a time. */
  private readonly sequential: boolean;
  /** Sequential, plain sinks and no context: sources without acknowledgement may use `pushPlain`. */
  readonly plain: boolean;

  /** Jobs between the handler call and the end of emission to the sinks. */
  private inflight = 0;
  /** Jobs emitted but waiting on deferred sink completions. */
  private outstanding = 0;
  private waiters: (() => void)[] = [];
  private openSources = 0;

  private buffer: unknown[] = [];
  private bufferDeliveries: (Delivery | null)[] = [];
  private bufferOrigin: Origin | null = null;
  private batchTimer: NodeJS.Timeout | null = null;
  private batchDue = false;

  constructor(
    readonly definition: SnapDefinition,
    private readonly run: RunControl,
    readonly logger: Logger,
  ) {
    const o = definition.options;
    this.name = definition.name;
    this.handler = definition.handler;
    this.sinks = o.sinks;
    this.deferred = o.sinks.map((s) => isDeferredSink(s));
    this.hasDeferred = this.deferred.includes(true);
    this.wantsContext = definition.handler.length >= 2;
    this.concurrency = o.concurrency;
    this.maxPending = o.maxPending;
    this.lanes = o.concurrency > 1 ? new Map() : null;
    this.debug = logger.isLevelEnabled('debug');
    this.sequential = o.concurrency === 1 && o.batch === undefined;
    this.plain = this.sequential && !this.hasDeferred && !this.wantsContext;
  }

  summary(): SnapSummary {
    return { name: this.name, ...this.stats };
  }

  addSource(size: number | undefined): void {
    this.openSources++;
    this.total = size === undefined || this.total === undefined ? undefined : this.total + size;
  }

  /** A source of this snap is exhausted (or stopped): flush a partial batch once all are. */
  sourceEnded(): void {
    if (--this.openSources === 0) this.drainBatch();
  }

  /** Flushes a partial batch now (stream stopping or sources exhausted). */
  drainBatch(): void {
    if (this.buffer.length > 0) this.flushBatch();
  }

  hasCapacity(): boolean {
    return this.inflight < this.concurrency && this.outstanding < this.maxPending;
  }

  get idle(): boolean {
    return this.inflight === 0 && this.outstanding === 0 && this.buffer.length === 0;
  }

  /** Resolves at the next change of capacity or idleness (or when the stream stops). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once the snap has capacity again, or the stream stops. */
  async capacity(): Promise<void> {
    while (!this.hasCapacity() && !this.run.stopping) await this.changed();
  }

  wake(): void {
    if (this.batchDue && this.inflight < this.concurrency && this.buffer.length > 0) this.flushBatch();
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Hands the snap one message. The caller has checked `hasCapacity()`. */
  push(item: unknown, delivery: Delivery | null, origin: Origin): void {
    this.stats.in++;
    if (this.sequential && !(item instanceof FailedItem)) {
      this.runSequential(item, delivery, origin);
      return;
    }
    if (item instanceof FailedItem) {
      const job = new Job(this, item, delivery, origin);
      job.failure = new StageFailure('source', item.error);
      this.inflight++;
      this.emitted(job);
      return;
    }
    if (this.definition.options.batch !== undefined) {
      this.pushBatch(item, delivery, origin);
    } else if (this.lanes === null) {
      this.runSequential(item, delivery, origin);
    } else {
      this.runConcurrent(new Job(this, item, delivery, origin), origin);
    }
  }

  /**
   * `push` for a `plain` snap and an item nobody acknowledges. Returns a promise when the message
   * went asynchronous; the snap has capacity again when it settles.
   */
  pushPlain(item: unknown, origin: Origin): Promise<void> | undefined {
    if (item instanceof FailedItem) {
      this.push(item, null, origin);
      return this.hasCapacity() ? undefined : this.capacity();
    }
    this.stats.in++;
    return this.runPlain(item, origin);
  }

  // --- the sequential path: one message at a time, no promise unless something returns one ---

  private runSequential(item: unknown, delivery: Delivery | null, origin: Origin): void {
    if (delivery === null && !this.hasDeferred && !this.wantsContext) {
      void this.runPlain(item, origin);
      return;
    }
    const job = this.hasDeferred || delivery !== null ? new Job(this, item, delivery, origin) : null;
    this.inflight++;
    let pending: void | Promise<void>;
    try {
      pending = this.process(job, item, origin);
    } catch (error) {
      this.emitFailed(job ?? new Job(this, item, delivery, origin), error);
      return;
    }
    if (pending === undefined) {
      if (job === null) {
        this.inflight--;
        if (this.waiters.length > 0) this.wake();
      } else {
        this.emitted(job);
      }
      return;
    }
    pending.then(
      () => {
        if (job !== null) return this.emitted(job);
        this.inflight--;
        this.wake();
      },
      (error: unknown) => this.emitFailed(job ?? new Job(this, item, delivery, origin), error),
    );
  }

  /** The hottest path: nothing to acknowledge, plain sinks, no context. */
  private runPlain(item: unknown, origin: Origin): Promise<void> | undefined {
    // `inflight` is raised only when the message goes asynchronous: synchronously, nobody can look.
    let result: unknown;
    try {
      result = this.handler(item);
    } catch (error) {
      this.inflight++;
      this.emitFailed(new Job(this, item, null, origin), new StageFailure('handler', error));
      return undefined;
    }
    let pending: void | Promise<void>;
    try {
      if (result === undefined) return undefined;
      if (typeof result !== 'object' || result === null) pending = this.emitPlain(result, 0);
      else if (isThenable(result)) return this.finishPlain(item, origin, result);
      else pending = this.emitResult(null, result);
    } catch (error) {
      this.inflight++;
      this.emitFailed(new Job(this, item, null, origin), error);
      return undefined;
    }
    if (pending === undefined) return undefined;
    return this.finishPlain(item, origin, undefined, pending);
  }

  /** The rest of `runPlain` once a handler or sink returned a promise: one async frame, no chains. */
  private async finishPlain(item: unknown, origin: Origin, handled: Thenable | undefined, emitting?: Promise<void>): Promise<void> {
    this.inflight++;
    try {
      if (handled !== undefined) {
        let value: unknown;
        try {
          value = await handled;
        } catch (error) {
          throw new StageFailure('handler', error);
        }
        emitting = this.emitResult(null, value) as Promise<void> | undefined;
      }
      if (emitting !== undefined) await emitting;
    } catch (error) {
      this.emitFailed(new Job(this, item, null, origin), error);
      return;
    }
    this.inflight--;
    if (this.waiters.length > 0) this.wake();
  }

  // --- the concurrent path: handlers overlap, emission keeps order per key ---

  private runConcurrent(job: Job, origin: Origin): void {
    const lanes = this.lanes!;
    this.inflight++;
    let key: unknown = lanes;
    if (!Array.isArray(job.input)) {
      const k = origin.meta(job.input).key;
      if (k !== undefined && k !== null) key = Buffer.isBuffer(k) ? `b:${k.toString('hex')}` : k;
    }
    let lane = lanes.get(key);
    if (lane === undefined) {
      lane = { tail: resolved, size: 0 };
      lanes.set(key, lane);
    }
    lane.size++;
    let handled: Promise<unknown>;
    try {
      const result = this.callHandler(job.input, origin);
      handled = isThenable(result) ? Promise.resolve(result).then(undefined, rethrowHandler) : Promise.resolve(result);
    } catch (error) {
      handled = Promise.reject(new StageFailure('handler', error));
    }
    handled.catch(noop);
    const emission = lane.tail.then(() => handled).then((result) => this.emitResult(job, result));
    const thisLane = lane;
    lane.tail = emission.then(noop, noop);
    emission.then(
      () => {
        this.leaveLane(key, thisLane);
        this.emitted(job);
      },
      (error: unknown) => {
        this.leaveLane(key, thisLane);
        this.emitFailed(job, error);
      },
    );
  }

  private leaveLane(key: unknown, lane: Lane): void {
    if (--lane.size === 0 && this.lanes!.get(key) === lane) this.lanes!.delete(key);
  }

  // --- batches ---

  private pushBatch(item: unknown, delivery: Delivery | null, origin: Origin): void {
    const { size, ms } = this.definition.options.batch!;
    this.buffer.push(item);
    this.bufferDeliveries.push(delivery);
    this.bufferOrigin ??= origin;
    if (this.buffer.length >= size) {
      this.flushBatch();
    } else if (this.buffer.length === 1) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = null;
        this.batchDue = true;
        this.wake();
      }, ms);
    }
  }

  private flushBatch(): void {
    if (this.batchTimer !== null) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    this.batchDue = false;
    const job = new Job(this, this.buffer, this.bufferDeliveries, this.bufferOrigin!);
    this.buffer = [];
    this.bufferDeliveries = [];
    this.bufferOrigin = null;
    if (this.lanes !== null) {
      this.runConcurrent(job, job.origin);
      return;
    }
    this.inflight++;
    this.attempt(job);
  }

  /** Runs the handler and sinks for an existing job (batches, retries). */
  private attempt(job: Job): void {
    let pending: void | Promise<void>;
    try {
      pending = this.process(job, job.input, job.origin);
    } catch (error) {
      this.emitFailed(job, error);
      return;
    }
    if (pending === undefined) this.emitted(job);
    else pending.then(() => this.emitted(job), (error: unknown) => this.emitFailed(job, error));
  }

  // --- handler and sinks ---

  private callHandler(input: unknown, origin: Origin): unknown {
    if (!this.wantsContext) return this.handler(input);
    return this.handler(input, this.context(input, origin));
  }

  private context(input: unknown, origin: Origin): SnapContext {
    const meta: MessageMeta = Array.isArray(input) && this.definition.options.batch !== undefined ? {} : origin.meta(input);
    return { ...meta, signal: this.run.signal, logger: this.logger, source: origin.source, snap: this.name };
  }

  private process(job: Job | null, input: unknown, origin: Origin): void | Promise<void> {
    let result: unknown;
    try {
      result = this.callHandler(input, origin);
    } catch (error) {
      throw new StageFailure('handler', error);
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then((value) => this.emitResult(job, value), rethrowHandler);
    }
    return this.emitResult(job, result);
  }

  private emitResult(job: Job | null, result: unknown): void | Promise<void> {
    if (result === undefined) return;
    if (result !== null && typeof result === 'object' && typeof (result as Iterator<unknown>).next === 'function') {
      const tag = toTag.call(result);
      if (tag === '[object Generator]') return this.emitIterator(job, result as Iterator<unknown>);
      if (tag === '[object AsyncGenerator]') return this.emitAsyncIterator(job, result as AsyncIterator<unknown>);
    }
    return this.emitValue(job, result, 0);
  }

  private emitIterator(job: Job | null, it: Iterator<unknown>): void | Promise<void> {
    try {
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = it.next();
        } catch (error) {
          throw new StageFailure('handler', error);
        }
        if (next.done) return;
        const pending = this.emitValue(job, next.value, 0);
        if (pending !== undefined) {
          return pending.then(
            () => this.emitIterator(job, it),
            (error: unknown) => {
              it.return?.();
              throw error;
            },
          );
        }
      }
    } catch (error) {
      if (!(error instanceof StageFailure && error.stage === 'handler')) it.return?.();
      throw error;
    }
  }

  private async emitAsyncIterator(job: Job | null, it: AsyncIterator<unknown>): Promise<void> {
    let finished = false;
    try {
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = await it.next();
        } catch (error) {
          finished = true;
          throw new StageFailure('handler', error);
        }
        if (next.done) {
          finished = true;
          return;
        }
        await this.emitValue(job, next.value, 0);
      }
    } finally {
      if (!finished) await it.return?.();
    }
  }

  private emitValue(job: Job | null, value: unknown, from: number): void | Promise<void> {
    if (!this.hasDeferred) return this.emitPlain(value, from);
    const sinks = this.sinks;
    for (let i = from; i < sinks.length; i++) {
      let result: unknown;
      if (this.deferred[i]) {
        job!.pending++;
        try {
          result = (sinks[i] as DeferredSink)[deliver](value, job!);
        } catch (error) {
          job!.pending--;
          throw new StageFailure('sink', error);
        }
        if (isThenable(result)) {
          const next = i + 1;
          return Promise.resolve(result).then(
            () => this.emitValue(job, value, next),
            (error: unknown) => {
              job!.pending--;
              throw new StageFailure('sink', error);
            },
          );
        }
      } else {
        try {
          result = (sinks[i] as PlainSink)(value);
        } catch (error) {
          throw new StageFailure('sink', error);
        }
        if (isThenable(result)) {
          const next = i + 1;
          return Promise.resolve(result).then(() => this.emitValue(job, value, next), rethrowSink);
        }
      }
    }
    this.stats.out++;
  }

  /** emitValue for snaps whose sinks are all plain functions: the hot path. */
  private emitPlain(value: unknown, from: number): void | Promise<void> {
    const sinks = this.sinks as readonly PlainSink[];
    for (let i = from; i < sinks.length; i++) {
      let result: unknown;
      try {
        result = sinks[i]!(value);
      } catch (error) {
        throw new StageFailure('sink', error);
      }
      if (result !== undefined && isThenable(result)) {
        const next = i + 1;
        return Promise.resolve(result).then(() => this.emitPlain(value, next), rethrowSink);
      }
    }
    this.stats.out++;
  }

  // --- completion, acknowledgement and failure ---

  /** The job's emission phase ended successfully. */
  private emitted(job: Job): void {
    this.inflight--;
    if (job.pending > 1) {
      job.counted = true;
      this.outstanding++;
    }
    job.done();
    this.wake();
  }

  private emitFailed(job: Job, error: unknown): void {
    job.failure ??= error instanceof StageFailure ? error : new StageFailure('handler', error);
    this.emitted(job);
  }

  /** Every completion of the job arrived (Job.done reached 0). */
  settled(job: Job): void {
    if (job.counted) {
      job.counted = false;
      this.outstanding--;
    }
    if (job.failure === undefined) {
      acknowledge(job.deliveries);
      if (this.debug) this.logger.debug({ snap: this.name }, 'message done');
    } else {
      this.failed(job, job.failure);
    }
    this.wake();
  }

  private failed(job: Job, failure: StageFailure): void {
    const policy = this.definition.options.errors;
    const fromSource = job.input instanceof FailedItem;
    if (policy.kind === 'retry' && job.attempt < policy.attempts && !fromSource) {
      this.stats.retries++;
      const delay = policy.backoffMs * 2 ** (job.attempt - 1);
      this.logger.warn({ err: failure.error, attempt: job.attempt, delayMs: delay, ...this.location(job) }, 'message failed, retrying');
      job.attempt++;
      job.failure = undefined;
      job.pending = 1;
      this.inflight++;
      setTimeout(() => this.attempt(job), delay);
      return;
    }
    this.stats.errors++;
    const location = this.location(job);
    const error = new SnapError(stageCodes[failure.stage], this.name, failure.error, location);
    if (policy.kind === 'skip') {
      this.stats.skipped++;
      this.logger.warn({ err: error, ...location }, 'message skipped after error');
      acknowledge(job.deliveries);
      return;
    }
    if (policy.deadLetter !== undefined) {
      this.deadLetter(job, error, policy.deadLetter);
      return;
    }
    this.run.fail(error);
  }

  private location(job: Job): MessageMeta {
    const input = job.input;
    if (input instanceof FailedItem) return { ...input.meta };
    const first = Array.isArray(input) && this.definition.options.batch !== undefined ? input[0] : input;
    const { topic, partition, offset, key } = job.origin.meta(first);
    const location: { topic?: string; partition?: number; offset?: string | number | bigint; key?: unknown } = {};
    if (topic !== undefined) location.topic = topic;
    if (partition !== undefined) location.partition = partition;
    if (offset !== undefined) location.offset = offset;
    if (key !== undefined) location.key = key;
    return location;
  }

  private deadLetter(job: Job, error: SnapError, sink: Sink): void {
    const input = job.input;
    const letter =
      input instanceof FailedItem
        ? new DeadLetter(this.name, input.raw, error, job.attempt, input.meta, input.raw)
        : new DeadLetter(this.name, input, error, job.attempt, this.location(job));
    this.logger.warn({ err: error, ...letter.meta }, 'message sent to dead letter after error');
    this.outstanding++;
    const finish = (): void => {
      this.outstanding--;
      this.stats.deadLettered++;
      acknowledge(job.deliveries);
      this.wake();
    };
    const fail = (cause: unknown): void => {
      this.outstanding--;
      this.run.fail(new SnapError('SNOOPY_SNAP_SINK', this.name, cause, letter.meta));
      this.wake();
    };
    try {
      if (isDeferredSink(sink)) {
        const completion: Completion = { done: finish, fail };
        const r = sink[deliver](letter, completion);
        if (isThenable(r)) Promise.resolve(r).then(undefined, fail);
      } else {
        const r = (sink as PlainSink)(letter);
        if (isThenable(r)) Promise.resolve(r).then(finish, fail);
        else finish();
      }
    } catch (cause) {
      fail(cause);
    }
  }
}
