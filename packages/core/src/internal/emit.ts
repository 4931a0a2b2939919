import { deliver, isDeferredSink, type DeferredSink } from '../protocol.js';
import type { Sink } from '../options.js';
import { SinkCompletion, StageFailure, type Job } from './job.js';

type PlainSink = (value: unknown) => unknown;
type Thenable = PromiseLike<unknown>;

const toTag = Object.prototype.toString;

export function isThenable(value: unknown): value is Thenable {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as Thenable).then === 'function';
}

const rethrowSink = (error: unknown): never => {
  throw error instanceof StageFailure ? error : new StageFailure('sink', error);
};

/**
 * Emission: the one path from a handler's result to a snap's sinks, shared by `stream()` and by
 * direct calls `h(msg)`. The rule, in one place: a result of `undefined` sends nothing; a
 * generator or async generator sends each value it yields, except `undefined` (skipped, as a
 * returned `undefined` is); any other value, `null` included, is sent to every sink in the order
 * they are listed, each sink's promise awaited before the next.
 *
 * Everything synchronous stays synchronous: with plain sinks and a plain result no promise is
 * made. A failure is thrown (or rejected) as a `StageFailure`: stage `handler` when the generator
 * threw, `sink` when a sink did.
 *
 * In `collect` mode (a retry policy, or a direct call) the result is first collected into
 * `job.outputs` (a generator is run to its end before anything is sent), so that a failed sink
 * can be retried by sending the same values again, without running the handler again.
 */
export class Emitter {
  private readonly deferred: readonly boolean[];
  readonly hasDeferred: boolean;

  constructor(
    private readonly sinks: readonly Sink[],
    readonly collect: boolean,
    /** `out` counts values that reached every sink. */
    private readonly counts: { out: number },
  ) {
    this.deferred = sinks.map((s) => isDeferredSink(s));
    this.hasDeferred = this.deferred.includes(true);
  }

  /** Sends a handler's result to the sinks. `job` may be null only without deferred sinks and not collecting. */
  result(job: Job | null, result: unknown): void | Promise<void> {
    if (result === undefined) return;
    if (this.collect) return this.collectThenSend(job!, result);
    if (result !== null && typeof result === 'object' && typeof (result as Iterator<unknown>).next === 'function') {
      const tag = toTag.call(result);
      if (tag === '[object Generator]') return this.sendIterator(job, result as Iterator<unknown>);
      if (tag === '[object AsyncGenerator]') return this.sendAsyncIterator(job, result as AsyncIterator<unknown>);
    }
    return this.hasDeferred ? this.send(job!, result, 0) : this.sendPlain(result, 0);
  }

  /** A single plain value to plain sinks: the hottest path. */
  sendPlain(value: unknown, from: number): void | Promise<void> {
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
        return Promise.resolve(result).then(() => this.sendPlain(value, next), rethrowSink);
      }
    }
    this.counts.out++;
  }

  /** One value to every sink from `from` on; deferred sinks complete `job` later. */
  private send(job: Job, value: unknown, from: number): void | Promise<void> {
    const sinks = this.sinks;
    for (let i = from; i < sinks.length; i++) {
      const pending = this.deliverTo(job, i, value, job);
      if (pending !== undefined) {
        const next = i + 1;
        return pending.then(() => this.send(job, value, next));
      }
    }
    this.counts.out++;
  }

  /**
   * Hands `value` to sink `i`. A deferred sink gets `completion` (the job itself, or a
   * SinkCompletion that remembers what to deliver again) and `job.pending` grows by one.
   */
  private deliverTo(job: Job, i: number, value: unknown, completion: Job | SinkCompletion): Promise<void> | undefined {
    let result: unknown;
    if (this.deferred[i]) {
      job.pending++;
      try {
        result = (this.sinks[i] as DeferredSink)[deliver](value, completion);
      } catch (error) {
        job.pending--;
        throw new StageFailure('sink', error);
      }
      if (!isThenable(result)) return undefined;
      // The promise is backpressure only; the completion reports the outcome of the delivery.
      return Promise.resolve(result).then(undefined, (error: unknown) => {
        job.pending--;
        throw new StageFailure('sink', error);
      });
    }
    try {
      result = (this.sinks[i] as PlainSink)(value);
    } catch (error) {
      throw new StageFailure('sink', error);
    }
    return result !== undefined && isThenable(result) ? Promise.resolve(result).then(undefined, rethrowSink) as Promise<void> : undefined;
  }

  private sendOne(job: Job | null, value: unknown): void | Promise<void> {
    return this.hasDeferred ? this.send(job!, value, 0) : this.sendPlain(value, 0);
  }

  private sendIterator(job: Job | null, it: Iterator<unknown>): void | Promise<void> {
    try {
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = it.next();
        } catch (error) {
          throw new StageFailure('handler', error);
        }
        if (next.done === true) return;
        if (next.value === undefined) continue;
        const pending = this.sendOne(job, next.value);
        if (pending !== undefined) {
          return pending.then(
            () => this.sendIterator(job, it),
            (error: unknown) => {
              closeIterator(it);
              throw error;
            },
          );
        }
      }
    } catch (error) {
      if (!(error instanceof StageFailure && error.stage === 'handler')) closeIterator(it);
      throw error;
    }
  }

  private async sendAsyncIterator(job: Job | null, it: AsyncIterator<unknown>): Promise<void> {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await it.next();
      } catch (error) {
        throw new StageFailure('handler', error);
      }
      if (next.done === true) return;
      if (next.value === undefined) continue;
      try {
        await this.sendOne(job, next.value);
      } catch (error) {
        // The generator is suspended at its yield: close it so its finally blocks run. A
        // failure while closing is the handler's, reported with the sink's failure as the cause.
        try {
          await it.return?.();
        } catch (closing) {
          throw new StageFailure('handler', new AggregateError([closing, (error as StageFailure).error], 'handler generator failed to close after a sink failure'));
        }
        throw error;
      }
    }
  }

  // --- collect mode: outputs first, then send, so that a sink can be retried alone ---

  private collectThenSend(job: Job, result: unknown): void | Promise<void> {
    const outputs: unknown[] = [];
    job.outputs = outputs;
    job.resumeValue = -1;
    job.redo = undefined;
    if (result !== null && typeof result === 'object' && typeof (result as Iterator<unknown>).next === 'function') {
      const tag = toTag.call(result);
      if (tag === '[object Generator]') {
        try {
          for (const v of result as Iterable<unknown>) if (v !== undefined) outputs.push(v);
        } catch (error) {
          throw new StageFailure('handler', error);
        }
        return this.sendFrom(job, 0, 0);
      }
      if (tag === '[object AsyncGenerator]') return this.collectAsync(job, result as AsyncIterable<unknown>);
    }
    outputs.push(result);
    return this.sendFrom(job, 0, 0);
  }

  private async collectAsync(job: Job, it: AsyncIterable<unknown>): Promise<void> {
    try {
      for await (const v of it) if (v !== undefined) job.outputs!.push(v);
    } catch (error) {
      throw new StageFailure('handler', error);
    }
    await this.sendFrom(job, 0, 0);
  }

  /** Sends `job.outputs` from value `v`, sink `s` on; remembers where it stopped on a failure. */
  private sendFrom(job: Job, v: number, s: number): void | Promise<void> {
    const outputs = job.outputs!;
    for (; v < outputs.length; v++, s = 0) {
      const value = outputs[v];
      for (; s < this.sinks.length; s++) {
        let pending: Promise<void> | undefined;
        try {
          pending = this.deliverTo(job, s, value, this.deferred[s] ? new SinkCompletion(job, v, s) : job);
        } catch (error) {
          job.resumeValue = v;
          job.resumeSink = s;
          throw error;
        }
        if (pending !== undefined) {
          const nv = v;
          const ns = s;
          return pending.then(
            () => this.sendFrom(job, nv, ns + 1),
            (error: unknown) => {
              job.resumeValue = nv;
              job.resumeSink = ns;
              throw error;
            },
          );
        }
      }
      this.counts.out++;
    }
  }

  /**
   * A retry after a sink failure: delivers again what failed (the deferred deliveries that
   * failed, then the rest of the emission from where a sink threw), never running the handler.
   */
  async redeliver(job: Job): Promise<void> {
    const redo = job.redo;
    job.redo = undefined;
    if (redo !== undefined) {
      for (let k = 0; k < redo.length; k += 2) {
        const v = redo[k]!;
        const s = redo[k + 1]!;
        await this.deliverTo(job, s, job.outputs![v], new SinkCompletion(job, v, s));
      }
    }
    if (job.resumeValue >= 0) {
      const v = job.resumeValue;
      job.resumeValue = -1;
      await this.sendFrom(job, v, job.resumeSink);
    }
  }
}

/** Closes a sync generator after a sink failure; a failure while closing is the handler's. */
function closeIterator(it: Iterator<unknown>): void {
  try {
    it.return?.();
  } catch (error) {
    throw new StageFailure('handler', error);
  }
}
