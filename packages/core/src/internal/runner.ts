import type { Logger } from 'pino';
import { SnapError, type SnoopyError } from '../errors.js';
import { DeadLetter } from '../dead-letter.js';
import { deliver, FailedItem, isDeferredSink, isReporting, progress, type Completion, type MessageMeta, type ProgressReport, type Reporting } from '../protocol.js';
import type { ResolvedSnapOptions, Sink, Source } from '../options.js';
import type { SnapContext, SnapSummary } from '../context.js';
import { Admission } from './admission.js';
import { Batcher } from './batcher.js';
import { Emitter, isThenable } from './emit.js';
import { backoff, ErrorPolicy, stageCodes } from './error-policy.js';
import { acknowledge, asFailure, Job, LaneState, StageFailure, type Delivery, type JobOwner, type Origin } from './job.js';
import { KeyLanes, noKey, type Lane } from './key-lanes.js';
import { PlainWindow, type WindowHost } from './plain-window.js';

/** What a runner needs from the stream run it belongs to. */
export interface RunControl {
  /** The stream stops pulling (graceful stop, or after a failure). */
  readonly stopping: boolean;
  /** Handed to handlers as `context.signal`: aborted when the stream begins to stop. */
  readonly signal: AbortSignal;
  /**
   * Aborted when the stream fails, or when its stop ran out of time: timers are cancelled, no
   * handler is called and nothing is emitted any more; what was in flight is left unacknowledged.
   */
  readonly halt: AbortSignal;
  /** `halt.aborted`, as a plain field: read for every message (the signal's getter checks its receiver each time). */
  readonly halted: boolean;
  fail(error: SnoopyError): void;
}

export interface SnapDefinition {
  readonly name: string;
  readonly sources: readonly Source[];
  readonly handler: (...args: any[]) => unknown;
  readonly options: ResolvedSnapOptions;
}

type PlainSink = (value: unknown) => unknown;

const rethrowHandler = (error: unknown): never => {
  throw asFailure(error, 'handler');
};

/**
 * Runs one snap inside one stream. A message's way through it, top to bottom:
 *
 * 1. `push` (or `pushPlain`, the path without bookkeeping): counted in, then
 * 2. batched (`Batcher`), if the snap has `batch`; a full or due batch becomes one job;
 * 3. admitted (`Admission.inflight`), and either run at once (`runJob`, concurrency 1) or
 *    queued in its key's lane (`startInLane`, concurrency > 1) where its handler starts at once
 *    and it emits only at the head of the lane;
 * 4. `attempt`: the handler is called and its result emitted (`Emitter`); a failure goes to
 *    `recover`, which retries in place (the job keeps its slot and its lane) or gives up;
 * 5. `emitted`: the job leaves `inflight`; if deferred sinks still owe completions it waits in
 *    `Admission.outstanding`;
 * 6. `settled` (every completion arrived): acknowledged, retried (a deferred sink failed), or
 *    handed to `giveUp`: skipped, dead-lettered, or the stream fails.
 */
export class Runner implements JobOwner {
  readonly name: string;
  readonly stats = { in: 0, out: 0, errors: 0, skipped: 0, deadLettered: 0, retries: 0 };
  /** Sum of the sizes known at start (arrays, Sets, Maps); undefined once a source has none. */
  private sizedTotal: number | undefined = 0;
  /** Sources with the `[progress]` protocol, read at each redraw and for the summary. */
  private readonly reporters: Reporting[] = [];
  readonly admission: Admission;
  /**
   * Plain sinks, no context, no retries, no batches: a source that needs no acknowledgement (and
   * describes no keys, when concurrency > 1) may use `pushPlain`, the path without jobs.
   */
  readonly plain: boolean;
  readonly concurrency: number;

  private readonly handler: (...args: any[]) => unknown;
  private readonly wantsContext: boolean;
  private readonly emitter: Emitter;
  private readonly policy: ErrorPolicy;
  private readonly batcher: Batcher | null;
  private readonly lanes: KeyLanes | null;
  private readonly debug: boolean;
  private openSources = 0;
  /** The plain path's ordered window under concurrency > 1 (one source only). */
  private readonly window: PlainWindow | null;
  private windowOrigin: Origin | null = null;

  constructor(
    readonly definition: SnapDefinition,
    private readonly run: RunControl,
    readonly logger: Logger,
  ) {
    const o = definition.options;
    this.name = definition.name;
    this.handler = definition.handler;
    this.wantsContext = definition.handler.length >= 2;
    this.policy = new ErrorPolicy(o.errors);
    this.emitter = new Emitter(o.sinks, this.policy.retries, this.stats);
    this.admission = new Admission(o.concurrency, o.maxPending);
    this.batcher = o.batch === undefined ? null : new Batcher(o.batch.size, o.batch.ms, () => this.wake());
    this.lanes = o.concurrency > 1 ? new KeyLanes() : null;
    this.debug = logger.isLevelEnabled('debug');
    this.concurrency = o.concurrency;
    // The window keeps order across everything pushed into it: one source only.
    this.plain =
      this.batcher === null && !this.emitter.hasDeferred && !this.wantsContext && !this.emitter.collect && (o.concurrency === 1 || definition.sources.length === 1);
    this.window = this.plain && o.concurrency > 1 ? new PlainWindow(o.concurrency, this.windowHost()) : null;
  }

  summary(): SnapSummary {
    const total = this.total;
    const reports = this.reporters.map((r) => ({ ...readReport(r) }));
    return { name: this.name, ...this.stats, ...(total === undefined ? {} : { total }), ...(reports.length === 0 ? {} : { progress: reports }) };
  }

  /** A source of this snap: its size when known at start, else maybe a `[progress]` reporter. */
  addSource(source: Source, size: number | undefined): void {
    this.openSources++;
    if (size !== undefined) {
      if (this.sizedTotal !== undefined) this.sizedTotal += size;
    } else if (isReporting(source)) this.reporters.push(source);
    else this.sizedTotal = undefined;
  }

  /** Whether a total may become known while the stream runs (sized, or every other source reports). */
  get mayHaveTotal(): boolean {
    return this.sizedTotal !== undefined;
  }

  /**
   * Messages the sources hold, as known now: the sizes known at start plus each reporting
   * source's last `total`; undefined while any source's total is unknown.
   */
  get total(): number | undefined {
    let total = this.sizedTotal;
    for (const r of this.reporters) {
      if (total === undefined) return undefined;
      const t = readReport(r)?.total;
      total = typeof t === 'number' && Number.isFinite(t) && t >= 0 ? total + t : undefined;
    }
    return total;
  }

  /** Sum of the `lag` its reporting sources give; undefined when none gives one. */
  get lag(): number | undefined {
    let lag: number | undefined;
    for (const r of this.reporters) {
      const l = readReport(r)?.lag;
      if (typeof l === 'number' && Number.isFinite(l) && l >= 0) lag = (lag ?? 0) + l;
    }
    return lag;
  }

  /** The messages of the reporting sources, for the progress bar. */
  get progressMessage(): string | undefined {
    const messages = this.reporters.map((r) => readReport(r)?.message).filter((m): m is string => typeof m === 'string' && m.length > 0);
    // A message is one line on a terminal: control characters would break the redraw.
    // eslint-disable-next-line no-control-regex
    return messages.length === 0 ? undefined : messages.join('; ').replace(/[\x00-\x1f\x7f]/g, ' ');
  }

  /** A source of this snap is exhausted (or stopped): hand on a partial batch once all are. */
  sourceEnded(): void {
    if (--this.openSources === 0) {
      this.drainBatch();
      this.batcher?.stop();
    }
  }

  /** Hands on a partial batch now (sources exhausted, or a graceful stop). */
  drainBatch(): void {
    if (this.batcher !== null && this.batcher.length > 0 && !this.run.halted) this.startBatch();
  }

  /** The stream halted: drop the partial batch and its timer (retry waits end through `run.halt`). */
  halted(): void {
    const dropped = this.batcher?.cancel() ?? 0;
    if (dropped > 0 && this.debug) this.logger.debug({ dropped }, 'partial batch dropped, unacknowledged');
    this.admission.wake();
  }

  hasCapacity(): boolean {
    return this.admission.hasCapacity();
  }

  get idle(): boolean {
    return this.admission.empty && (this.batcher === null || this.batcher.length === 0);
  }

  /** What the snap still waits for, for the stop's log line. */
  waitingFor(): { handlers: number; completions: number; batched: number } {
    return { handlers: this.admission.inflight, completions: this.admission.outstanding, batched: this.batcher?.length ?? 0 };
  }

  /** Resolves at the next change of capacity or idleness (or when the stream stops). */
  changed(): Promise<void> {
    return this.admission.changed();
  }

  /** Resolves once the snap has capacity again, or the stream stops. */
  async capacity(): Promise<void> {
    while (!this.admission.hasCapacity() && !this.run.stopping) await this.admission.changed();
  }

  /** Something changed: a due batch may go now, and waiters look again. */
  wake(): void {
    const b = this.batcher;
    if (b !== null && b.due && b.length > 0 && this.admission.inflight < this.admission.concurrency && !this.run.halted) this.startBatch();
    this.admission.wake();
  }

  // --- 1. entry ---

  /** Hands the snap one message. The caller has checked `hasCapacity()`. */
  push(item: unknown, delivery: Delivery | null, origin: Origin): void {
    this.stats.in++;
    if (item instanceof FailedItem) {
      const job = new Job(this, item, delivery, origin);
      job.failure = new StageFailure('source', item.error);
      this.admission.inflight++;
      this.emitted(job);
      return;
    }
    if (this.batcher !== null) {
      if (this.batcher.add(item, delivery, origin)) this.startBatch();
      return;
    }
    this.start(new Job(this, item, delivery, origin));
  }

  /**
   * `push` for a `plain` snap and an item nobody acknowledges: no job unless it fails. Returns a
   * promise when the message went asynchronous; the snap has capacity again when it settles.
   */
  pushPlain(item: unknown, origin: Origin): Promise<void> | undefined {
    if (item instanceof FailedItem) {
      this.push(item, null, origin);
      return this.admission.hasCapacity() ? undefined : this.capacity();
    }
    this.stats.in++;
    // `inflight` is raised only when the message goes asynchronous: synchronously, nobody can look.
    let result: unknown;
    try {
      result = this.handler(item);
    } catch (error) {
      return this.plainFailed(item, origin, new StageFailure('handler', error));
    }
    const window = this.window;
    if (window !== null) {
      const thenable = isThenable(result);
      if (thenable || window.length > 0) {
        // Concurrency: the result waits its turn in the ordered window.
        this.admission.inflight++;
        this.windowOrigin = origin;
        window.add(item, result, thenable);
        return window.full ? window.room() : undefined;
      }
    }
    let pending: void | Promise<void>;
    try {
      if (result === undefined) return undefined;
      if (typeof result !== 'object' || result === null) pending = this.emitter.sendPlain(result, 0);
      else if (isThenable(result)) return this.finishPlain(item, origin, result);
      else pending = this.emitter.result(null, result);
    } catch (error) {
      return this.plainFailed(item, origin, error);
    }
    if (pending === undefined) return undefined;
    return this.finishPlain(item, origin, undefined, pending);
  }

  /** The rest of `pushPlain` once a handler or sink returned a promise: one async frame, no chains. */
  private async finishPlain(item: unknown, origin: Origin, handled: PromiseLike<unknown> | undefined, emitting?: void | Promise<void>): Promise<void> {
    this.admission.inflight++;
    try {
      if (handled !== undefined) {
        let value: unknown;
        try {
          value = await handled;
        } catch (error) {
          throw new StageFailure('handler', error);
        }
        if (this.run.halted) return this.abandonPlain();
        emitting = this.emitter.result(null, value);
      }
      if (emitting !== undefined) await emitting;
    } catch (error) {
      this.admission.inflight--;
      await this.plainFailed(item, origin, error);
      return;
    }
    this.admission.inflight--;
    if (this.admission.waiting) this.wake();
  }

  private windowHost(): WindowHost {
    const runner = this;
    return {
      get halted() {
        return runner.run.halted;
      },
      emitValue: (value) => this.emitter.result(null, value),
      failed: (item, error) => void this.plainFailed(item, this.windowOrigin!, error),
      left: () => {
        this.admission.inflight--;
        if (this.admission.waiting) this.wake();
      },
    };
  }

  /** The source ended or stops: wait until the plain window emptied, in order. */
  async drainWindow(): Promise<void> {
    if (this.window !== null) await this.window.drain();
  }

  private abandonPlain(): void {
    this.admission.inflight--;
    this.wake();
  }

  /** A plain message failed: from here it takes the common way (no retry on the plain path). */
  private plainFailed(item: unknown, origin: Origin, error: unknown): Promise<void> | undefined {
    const job = new Job(this, item, null, origin);
    job.failure = asFailure(error);
    this.admission.inflight++;
    this.emitted(job);
    return this.admission.hasCapacity() ? undefined : this.capacity();
  }

  // --- 2. batches ---

  private startBatch(): void {
    const batch = this.batcher!.take();
    this.start(new Job(this, batch.items, batch.deliveries, batch.origin));
  }

  // --- 3. admission, then straight on (concurrency 1) or into a key lane ---

  private start(job: Job): void {
    this.admission.inflight++;
    if (this.lanes === null) this.runJob(job);
    else this.startInLane(job);
  }

  /** Concurrency 1: the job runs now; the next one is admitted once it left `inflight`. */
  private runJob(job: Job): void {
    let pending: void | Promise<void>;
    try {
      pending = this.attempt(job);
    } catch (error) {
      pending = this.recover(job, error);
    }
    if (pending === undefined) this.emitted(job);
    else pending.then(undefined, (error: unknown) => this.recover(job, error)).then(() => this.emitted(job));
  }

  /** Concurrency > 1: the handler starts now; the job emits at the head of its key's lane. */
  private startInLane(job: Job): void {
    const lane = this.lanes!.add(this.laneKey(job), job);
    if (this.run.halted) {
      job.abandoned = true;
      job.state = LaneState.Ready;
    } else {
      let result: unknown;
      try {
        result = this.callHandler(job.input, job.origin);
      } catch (error) {
        job.result = new StageFailure('handler', error);
        job.state = LaneState.Failed;
      }
      if (job.state === LaneState.Running) {
        if (isThenable(result)) {
          result.then(
            (value) => {
              job.result = value;
              job.state = LaneState.Ready;
              if (lane.head === job) this.drainLane(lane);
            },
            (error: unknown) => {
              job.result = new StageFailure('handler', error);
              job.state = LaneState.Failed;
              if (lane.head === job) this.drainLane(lane);
            },
          );
          return;
        }
        job.result = result;
        job.state = LaneState.Ready;
      }
    }
    if (lane.head === job) this.drainLane(lane);
  }

  private laneKey(job: Job): unknown {
    if (this.batcher !== null) return noKey;
    return KeyLanes.keyOf(job.origin.meta(job.input).key);
  }

  /** Emits the lane's ready jobs from its head, in order, until one is still running or goes async. */
  private drainLane(lane: Lane): void {
    for (;;) {
      const job = lane.head;
      if (job.state === LaneState.Running || job.state === LaneState.Emitting) return;
      const failed = job.state === LaneState.Failed;
      const result = job.result;
      job.state = LaneState.Emitting;
      job.result = undefined;
      let pending: void | Promise<void> = undefined;
      if (job.abandoned || this.run.halted) job.abandoned = true;
      else if (failed) pending = this.recover(job, result);
      else {
        try {
          pending = this.emitter.result(job, result);
        } catch (error) {
          pending = this.recover(job, error);
        }
      }
      if (pending !== undefined) {
        pending
          .then(undefined, (error: unknown) => this.recover(job, error))
          .then(() => {
            if (this.leaveLane(lane, job)) this.drainLane(lane);
          });
        return;
      }
      if (!this.leaveLane(lane, job)) return;
    }
  }

  /** The head of `lane` is done emitting; true when the lane has a next job. */
  private leaveLane(lane: Lane, job: Job): boolean {
    const next = this.lanes!.shift(lane);
    this.emitted(job);
    return next !== null;
  }

  // --- 4. one attempt: the handler, then emission; failures recover in place ---

  private attempt(job: Job): void | Promise<void> {
    if (this.run.halted) {
      job.abandoned = true;
      return;
    }
    let result: unknown;
    try {
      result = this.callHandler(job.input, job.origin);
    } catch (error) {
      throw new StageFailure('handler', error);
    }
    if (isThenable(result)) return Promise.resolve(result).then((value) => this.emitAfterHandler(job, value), rethrowHandler);
    return this.emitter.result(job, result);
  }

  private emitAfterHandler(job: Job, value: unknown): void | Promise<void> {
    if (this.run.halted) {
      job.abandoned = true;
      return;
    }
    return this.emitter.result(job, value);
  }

  private callHandler(input: unknown, origin: Origin): unknown {
    if (!this.wantsContext) return this.handler(input);
    return this.handler(input, this.context(input, origin));
  }

  private context(input: unknown, origin: Origin): SnapContext {
    const meta: MessageMeta = this.batcher !== null ? {} : origin.meta(input);
    return { ...meta, signal: this.run.signal, logger: this.logger, source: origin.source, snap: this.name };
  }

  /**
   * An attempt failed. Retry it in place when the policy allows (the job keeps its admission
   * slot and its lane, so nothing overtakes it); otherwise record the failure for `settled`.
   * Never throws.
   */
  private recover(job: Job, error: unknown): void | Promise<void> {
    if (job.abandoned) return;
    const failure = asFailure(error);
    if (this.policy.canRetry(job, failure)) return this.retry(job, failure);
    job.failure ??= failure;
  }

  /**
   * Waits the backoff (cancelled if the stream halts), then tries again: a handler failure runs
   * the handler again; a sink failure delivers the kept outputs again, without the handler.
   */
  private async retry(job: Job, failure: StageFailure): Promise<void> {
    for (;;) {
      this.stats.retries++;
      const delayMs = this.policy.delayMs(job.attempt);
      const reason = failure.error instanceof Error ? failure.error.message : String(failure.error);
      this.logger.warn({ code: stageCodes[failure.stage], error: reason, attempt: job.attempt, delayMs, ...this.location(job) }, 'message failed, retrying');
      if (this.debug) this.logger.debug({ err: failure.error }, 'cause of the retry');
      if (!(await backoff(delayMs, this.run.halt))) {
        job.abandoned = true;
        return;
      }
      job.attempt++;
      try {
        await (failure.stage === 'sink' && job.outputs !== undefined ? this.emitter.redeliver(job) : this.attempt(job));
        return;
      } catch (error) {
        failure = asFailure(error);
        if (!this.policy.canRetry(job, failure)) {
          job.failure ??= failure;
          return;
        }
      }
    }
  }

  // --- 5. emitted, 6. settled ---

  /** The job's emission phase ended (successfully or not). */
  private emitted(job: Job): void {
    this.admission.inflight--;
    if (job.pending > 1) {
      job.counted = true;
      this.admission.outstanding++;
    }
    job.done();
    this.wake();
  }

  /** Every completion of the job arrived (`Job.done` reached 0). */
  settled(job: Job): void {
    const failure = job.failure;
    if (failure !== undefined && !job.abandoned && failure.stage === 'sink' && job.redo !== undefined && this.policy.canRetry(job, failure)) {
      // A deferred sink failed after emission: deliver again what failed, still counted outstanding.
      if (!job.counted) {
        job.counted = true;
        this.admission.outstanding++;
      }
      job.failure = undefined;
      job.pending = 1;
      void this.retry(job, failure).then(() => job.done());
      return;
    }
    if (job.counted) {
      job.counted = false;
      this.admission.outstanding--;
    }
    if (job.abandoned) {
      if (this.debug) this.logger.debug(this.location(job), 'message abandoned by the stop, unacknowledged');
    } else if (failure === undefined) {
      acknowledge(job);
      if (this.debug) this.logger.debug('message done');
    } else {
      this.giveUp(job, failure);
    }
    this.wake();
  }

  /** The message failed for good: skip it, send it to the dead-letter sink, or fail the stream. */
  private giveUp(job: Job, failure: StageFailure): void {
    this.stats.errors++;
    const location = this.location(job);
    const error = new SnapError(stageCodes[failure.stage], this.name, failure.error, location);
    const { kind, deadLetter } = this.policy.resolved;
    if (kind === 'skip') {
      this.stats.skipped++;
      this.logger.warn({ code: error.code, error: error.message, ...location }, 'message skipped after error');
      if (this.debug) this.logger.debug({ err: error }, 'skipped message error');
      acknowledge(job);
      return;
    }
    if (deadLetter !== undefined) {
      this.sendToDeadLetter(job, error, deadLetter);
      return;
    }
    this.run.fail(error);
  }

  private location(job: Job): MessageMeta {
    const input = job.input;
    if (input instanceof FailedItem) return { ...input.meta };
    const first = this.batcher !== null && Array.isArray(input) ? input[0] : input;
    const { topic, partition, offset, key } = job.origin.meta(first);
    const location: { topic?: string; partition?: number; offset?: string | number | bigint; key?: unknown } = {};
    if (topic !== undefined) location.topic = topic;
    if (partition !== undefined) location.partition = partition;
    if (offset !== undefined) location.offset = offset;
    if (key !== undefined) location.key = key;
    return location;
  }

  private sendToDeadLetter(job: Job, error: SnapError, sink: Sink): void {
    const input = job.input;
    const letter =
      input instanceof FailedItem
        ? new DeadLetter(this.name, input.raw, error, job.attempt, input.meta, input.raw)
        : new DeadLetter(this.name, input, error, job.attempt, this.location(job));
    this.logger.warn({ code: error.code, error: error.message, ...letter.meta }, 'message sent to dead letter after error');
    if (this.debug) this.logger.debug({ err: error }, 'dead-lettered message error');
    this.admission.outstanding++;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.admission.outstanding--;
      this.stats.deadLettered++;
      acknowledge(job);
      this.wake();
    };
    const fail = (cause: unknown): void => {
      if (finished) return;
      finished = true;
      this.admission.outstanding--;
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

/** A source's `[progress]()` report; a source that throws there reports nothing. */
function readReport(source: Reporting): ProgressReport | undefined {
  try {
    const report = source[progress]();
    return report !== null && typeof report === 'object' ? report : undefined;
  } catch {
    return undefined;
  }
}
