import { SnapError } from '../errors.js';
import { ack, describe, take, type Acknowledging, type Describing, type MessageMeta, type Taking } from '../protocol.js';
import type { Source } from '../options.js';
import { SharedDelivery, SoleDelivery, type Delivery, type Origin } from './job.js';
import type { RunControl, Runner } from './runner.js';
import { asyncYieldMask, syncYieldMask, yieldToEventLoop } from './event-loop.js';

const empty: MessageMeta = Object.freeze({});

/**
 * Iterates one source exactly once and hands each item to every snap bound to it. A new item is
 * pulled only when every one of those snaps has capacity, so a slow snap slows its source.
 */
export class Pump implements Origin {
  readonly runners: Runner[] = [];
  /** The iterator has finished by itself (done, or threw). */
  private finished = false;
  /** The pull loop is still running: after a stop, that means it waits on the source. */
  private pulling = false;
  private iterator: Iterator<unknown> | AsyncIterator<unknown> | undefined;
  private acker: Acknowledging | undefined;
  private describer: Describing | undefined;
  /** The acknowledgement of every item when the source is acknowledging and feeds one snap. */
  private sole: SoleDelivery | null = null;
  private readonly ackItem = (item: unknown): void => {
    try {
      this.acker![ack](item);
    } catch (error) {
      this.run.fail(new SnapError('SNOOPY_SOURCE_FAILED', this.runners[0]!.name, error));
    }
  };

  constructor(
    readonly source: Source,
    private readonly run: RunControl,
  ) {}

  meta(item: unknown): MessageMeta {
    return this.describer === undefined ? empty : this.describer[describe](item);
  }

  /** Runs until the source is exhausted, the stream stops, or the source throws. */
  async start(): Promise<void> {
    try {
      const source = this.source as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
      const isAsync = typeof source[Symbol.asyncIterator] === 'function';
      const iterator = isAsync ? source[Symbol.asyncIterator]!() : source[Symbol.iterator]!();
      this.iterator = iterator;
      this.acker = pick<Acknowledging>(iterator, this.source, ack);
      this.describer = pick<Describing>(iterator, this.source, describe);
      if (this.acker !== undefined && this.runners.length === 1) this.sole = new SoleDelivery(this.ackItem);
      this.pulling = true;
      if (Array.isArray(this.source) && this.runners.length === 1 && this.acker === undefined) await this.pullArray(this.source);
      else if (isAsync) await this.pullAsync(iterator as AsyncIterator<unknown>);
      else await this.pullSync(iterator as Iterator<unknown>);
    } catch (error) {
      this.finished = true;
      this.run.fail(new SnapError('SNOOPY_SOURCE_FAILED', this.snaps, error));
    } finally {
      this.pulling = false;
      for (const runner of this.runners) {
        // Messages still in a plain window finish in order (or are abandoned if the stream halted).
        await runner.drainWindow();
        runner.sourceEnded();
      }
    }
  }

  /** The names of the snaps this source feeds, for errors and logs. */
  get snaps(): string {
    return this.runners.map((r) => r.name).join(', ');
  }

  /** True while the pull loop waits on the source (it has not answered `next()`). */
  get waitingOnSource(): boolean {
    return this.pulling;
  }

  /**
   * Closes the iterator (`return()`) unless it finished by itself, waiting at most until `bound`
   * settles when the source is still busy answering `next()` (it may wait for data forever).
   * A `return()` that throws or rejects fails the stream with SNOOPY_SOURCE_FAILED: a source
   * that cannot close (a consumer that cannot commit) is not silently let go.
   */
  async close(bound: Promise<void>): Promise<void> {
    const it = this.iterator;
    if (it === undefined || this.finished || typeof it.return !== 'function') return;
    this.finished = true;
    let closing: Promise<void>;
    try {
      closing = Promise.resolve(it.return()).then(
        () => undefined,
        (error: unknown) => this.run.fail(new SnapError('SNOOPY_SOURCE_FAILED', this.snaps, error)),
      );
    } catch (error) {
      this.run.fail(new SnapError('SNOOPY_SOURCE_FAILED', this.snaps, error));
      return;
    }
    if (!this.pulling) return closing;
    await Promise.race([closing, bound]);
  }

  /**
   * Whether `runner` may take this source's items by `pushPlain`: nothing to acknowledge, and
   * under concurrency no keys (the plain window keeps total order, stricter than per key).
   */
  private plainFor(runner: Runner): boolean {
    return runner.plain && this.acker === undefined && (runner.concurrency === 1 || this.describer === undefined);
  }

  private canPush(): boolean {
    const runners = this.runners;
    for (let i = 0; i < runners.length; i++) if (!runners[i]!.hasCapacity()) return false;
    return true;
  }

  private async waitForCapacity(): Promise<void> {
    for (const runner of this.runners) {
      while (!runner.hasCapacity() && !this.run.stopping) await runner.changed();
    }
  }

  private dispatch(item: unknown): void {
    const runners = this.runners;
    if (runners.length === 1) {
      runners[0]!.push(item, this.sole, this);
      return;
    }
    const delivery: Delivery | null = this.acker === undefined ? null : new SharedDelivery(item, runners.length, this.ackItem);
    for (let i = 0; i < runners.length; i++) runners[i]!.push(item, delivery, this);
  }

  /** Arrays are read by index: no iterator result per item. */
  private async pullArray(items: readonly unknown[]): Promise<void> {
    const run = this.run;
    const runner = this.runners[0]!;
    const plain = this.plainFor(runner);
    for (let i = 0; i < items.length; i++) {
      if (run.stopping) return;
      while (!runner.hasCapacity()) {
        await this.waitForCapacity();
        if (run.stopping) return;
      }
      if (plain) {
        const pending = runner.pushPlain(items[i], this);
        if (pending !== undefined) await pending;
      } else runner.push(items[i], null, this);
      if ((i & syncYieldMask) === syncYieldMask) await yieldToEventLoop();
    }
    this.finished = true;
  }

  private async pullSync(it: Iterator<unknown>): Promise<void> {
    const run = this.run;
    const single = this.runners.length === 1 && this.acker === undefined ? this.runners[0]! : undefined;
    let count = 0;
    while (!run.stopping) {
      if (single === undefined ? !this.canPush() : !single.hasCapacity()) {
        await this.waitForCapacity();
        continue;
      }
      const next = it.next();
      if (next.done === true) {
        this.finished = true;
        return;
      }
      if (single === undefined) this.dispatch(next.value);
      else single.push(next.value, null, this);
      // A long synchronous source must not starve timers, signals and I/O.
      if ((++count & syncYieldMask) === 0) await yieldToEventLoop();
    }
  }

  private async pullAsync(it: AsyncIterator<unknown>): Promise<void> {
    const run = this.run;
    const runners = this.runners;
    // The common case, one snap and nothing to acknowledge, gets a loop with nothing else in it.
    if (runners.length === 1 && this.acker === undefined) {
      const runner = runners[0]!;
      if (run.stopping) return;
      let count = 0;
      if (this.plainFor(runner)) {
        // Whenever pushPlain returns (and its promise, if any, settles) the snap has capacity.
        for (;;) {
          // A source that answers from a buffer resolves at once: let timers, I/O and signals in.
          if ((++count & asyncYieldMask) === 0) {
            await yieldToEventLoop();
            if (run.stopping) return;
          }
          const next = await it.next();
          if (next.done === true) {
            this.finished = true;
            return;
          }
          // An item pulled after the stream began to stop is not processed, hence never acknowledged.
          if (run.stopping) return;
          const pending = runner.pushPlain(next.value, this);
          if (pending !== undefined) {
            await pending;
            if (run.stopping) return;
          }
        }
      }
      for (;;) {
        if (!runner.hasCapacity()) {
          await this.waitForCapacity();
          if (run.stopping) return;
          continue;
        }
        if ((++count & asyncYieldMask) === 0) {
          await yieldToEventLoop();
          if (run.stopping) return;
        }
        const next = await it.next();
        if (next.done === true) {
          this.finished = true;
          return;
        }
        // An item pulled after the stream began to stop is not processed, hence never acknowledged.
        if (run.stopping) return;
        runner.push(next.value, null, this);
      }
      return;
    }
    // Acknowledging sources, and sources feeding several snaps. A source that reads ahead hands
    // its buffered items over synchronously (`[take]`): no promise and no result object each.
    const taker = typeof (it as Partial<Taking>)[take] === 'function' ? (it as unknown as Taking) : undefined;
    // The first pass yields too: the yield's code then runs before this loop is optimized, so
    // reaching it 16,384 items later does not throw the compiled loop away (issue 15: every
    // recompile of this loop costs tens of milliseconds of a core during warm-up).
    let count = -1;
    while (!run.stopping) {
      if (!this.canPush()) {
        await this.waitForCapacity();
        continue;
      }
      if ((++count & asyncYieldMask) === 0) {
        await yieldToEventLoop();
        continue;
      }
      let item = taker === undefined ? undefined : taker[take]();
      if (item === undefined) {
        const next = await it.next();
        if (next.done === true) {
          this.finished = true;
          return;
        }
        if (run.stopping) return;
        item = next.value;
      }
      this.dispatch(item);
    }
  }
}

function pick<T>(iterator: object, source: unknown, key: symbol): T | undefined {
  if (typeof (iterator as Record<symbol, unknown>)[key] === 'function') return iterator as T;
  if (typeof (source as Record<symbol, unknown> | null)?.[key] === 'function') return source as T;
  return undefined;
}
