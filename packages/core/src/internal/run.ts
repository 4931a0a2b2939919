import type { Logger } from 'pino';
import { SnapError, TimeoutError, type SnoopyError } from '../errors.js';
import { isFlushing, isOpening, flush, open } from '../protocol.js';
import type { ResolvedStreamOptions, Source } from '../options.js';
import type { StreamSummary } from '../context.js';
import { Pump } from './pump.js';
import { sizeOf } from './source-size.js';
import { Runner, type RunControl, type SnapDefinition } from './runner.js';
import { Progress } from './progress.js';
import { ProgressLog } from './progress-log.js';

type Reason = StreamSummary['reason'];

/**
 * One execution of `stream()`: its pumps, its runners, and the way it stops.
 *
 * - It ends by itself when every source is exhausted and every runner is idle (no bound).
 * - A stop (signal, abort) stops pulling, hands on partial batches and waits for what is in
 *   flight (handlers, completions, sources closing) for at most `closeTimeoutMs` in all; past
 *   that it halts and rejects with a `TimeoutError` naming what it still waited for.
 * - A failure under `errors: 'stop'` halts at once: batch and retry timers are cancelled, no
 *   handler is called after it, and the stream rejects with the failure once the handlers
 *   already running have returned (bounded by `closeTimeoutMs` too).
 */
export class Run implements RunControl {
  stopping = false;
  halted = false;
  private error: SnoopyError | undefined;
  private reason: Reason = 'end';
  private readonly controller = new AbortController();
  private readonly halter = new AbortController();
  private readonly stopWaiters: (() => void)[] = [];
  private readonly runners: Runner[];
  private readonly pumps: Pump[] = [];
  private readonly started = performance.now();
  /** Started when the stream begins to stop: bounds the whole stop. */
  private deadline: Deadline | undefined;

  constructor(
    definitions: readonly SnapDefinition[],
    private readonly options: ResolvedStreamOptions,
    private readonly logger: Logger,
  ) {
    this.runners = definitions.map((d) => new Runner(d, this, logger.child({ component: 'snap', snap: d.name })));
    const bySource = new Map<Source, Pump>();
    for (const runner of this.runners) {
      for (const source of runner.definition.sources) {
        let pump = bySource.get(source);
        if (pump === undefined) {
          pump = new Pump(source, this);
          bySource.set(source, pump);
          this.pumps.push(pump);
        }
        if (!pump.runners.includes(runner)) {
          pump.runners.push(runner);
          runner.addSource(source, sizeOf(source));
        }
      }
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get halt(): AbortSignal {
    return this.halter.signal;
  }

  /** The first failure stops everything; `execute` rejects with it (so it is not logged here). */
  fail(error: SnoopyError): void {
    if (this.error === undefined) this.error = error;
    this.stop('end');
    this.haltNow();
  }

  stop(reason: Reason): void {
    if (this.stopping) return;
    this.stopping = true;
    this.reason = reason;
    this.deadline = new Deadline(this.options.closeTimeoutMs);
    this.controller.abort(this.error ?? new Error(`stream stopped (${reason})`));
    for (const w of this.stopWaiters.splice(0)) w();
    for (const r of this.runners) r.wake();
  }

  private haltNow(): void {
    if (this.halted) return;
    this.halted = true;
    this.halter.abort();
    for (const r of this.runners) r.halted();
  }

  async execute(): Promise<StreamSummary> {
    const { signal, handleSignals, progress, closeTimeoutMs, dispose, progressIntervalMs } = this.options;
    const cleanups: (() => void)[] = [];
    if (signal !== undefined) {
      const onAbort = (): void => this.stop('abort');
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
    }
    if (handleSignals) cleanups.push(this.trapSignals());
    const bar = progress !== false && Progress.wanted(progress, this.runners) ? new Progress(progress, this.runners) : undefined;

    this.logger.info({ snaps: this.runners.map((r) => r.name), sources: this.pumps.length }, 'stream started');
    const progressLog = progressIntervalMs === false ? undefined : new ProgressLog(this.runners, progressIntervalMs);
    let timeout: TimeoutError | undefined;
    try {
      this.openSinks();
      const pumping = Promise.all(this.pumps.map((p) => p.start()));
      await Promise.race([pumping, new Promise<void>((resolve) => this.stopWaiters.push(resolve))]);
      // From a stop on, the whole wait is bounded by `closeTimeoutMs`; a natural end is not.
      if (this.stopping) {
        if (this.error === undefined) for (const r of this.runners) r.drainBatch();
        this.logger.info({ reason: this.error ? 'error' : this.reason, timeoutMs: closeTimeoutMs, waitingFor: this.waitingFor() }, 'stream stopping');
      }
      await this.drain();
      this.stopping = true;
      await Promise.all(this.pumps.map((p) => p.close(this.deadline?.passed ?? never)));
      await this.drain();
      if (this.deadline?.expired === true && this.error === undefined) {
        timeout = new TimeoutError(`stream stop (still waiting for ${JSON.stringify(this.waitingFor())})`, closeTimeoutMs);
      }
    } finally {
      this.deadline?.cancel();
      // Whatever is still in flight is abandoned: timers cancelled, nothing more acknowledged.
      this.haltNow();
      for (const c of cleanups) c();
      progressLog?.stop();
      bar?.stop();
      if (dispose) await this.disposeAll();
    }
    const summary = this.summary();
    if (this.error !== undefined) throw this.error;
    if (timeout !== undefined) throw timeout;
    this.logger.info({ ...summary, snaps: undefined }, 'stream finished');
    return summary;
  }

  /** Per snap, what is still in flight; and the sources still answering `next()`. */
  private waitingFor(): Record<string, unknown> {
    const waiting: Record<string, unknown> = {};
    for (const r of this.runners) {
      const w = r.waitingFor();
      if (w.handlers + w.completions + w.batched > 0) waiting[r.name] = w;
    }
    const sources = this.pumps.filter((p) => p.waitingOnSource).map((p) => p.snaps);
    if (sources.length > 0) waiting.sourcesOf = sources;
    return waiting;
  }

  /** Waits until every runner is idle (no handler in flight, no completion outstanding), or the deadline. */
  private async drain(): Promise<void> {
    let flushed = false;
    for (const runner of this.runners) {
      while (!runner.idle) {
        if (!flushed) {
          flushed = true;
          await this.flushSinks();
          continue;
        }
        const deadline = this.deadline;
        if (deadline === undefined) await runner.changed();
        else {
          if (deadline.expired) return;
          await Promise.race([runner.changed(), deadline.passed]);
        }
      }
    }
  }

  /** `[open]()` on every sink, not awaited: they connect while the sources do. */
  private openSinks(): void {
    const sinks = new Set<unknown>(this.runners.flatMap((r) => r.definition.options.sinks));
    for (const sink of sinks) {
      if (!isOpening(sink)) continue;
      const failed = (error: unknown): void => this.fail(new SnapError('SNOOPY_SNAP_SINK', this.sinkOwners(sink), error));
      try {
        const opening = sink[open]();
        if (opening !== undefined && typeof (opening as Partial<Promise<void>>).then === 'function') opening.then(undefined, failed);
      } catch (error) {
        failed(error);
      }
    }
  }

  private async flushSinks(): Promise<void> {
    const sinks = new Set<unknown>(this.runners.flatMap((r) => r.definition.options.sinks));
    await Promise.all(
      [...sinks].filter(isFlushing).map((s) =>
        s[flush]().catch((error: unknown) => this.fail(new SnapError('SNOOPY_SNAP_SINK', this.sinkOwners(s), error))),
      ),
    );
  }

  private sinkOwners(sink: unknown): string {
    return this.runners
      .filter((r) => r.definition.options.sinks.includes(sink as never))
      .map((r) => r.name)
      .join(', ');
  }

  /** Only with `dispose: true`: the caller's sources and sinks are theirs to close otherwise. */
  private async disposeAll(): Promise<void> {
    const owned = new Set<unknown>();
    for (const r of this.runners) {
      for (const s of r.definition.sources) owned.add(s);
      for (const s of r.definition.options.sinks) owned.add(s);
      const dl = r.definition.options.errors.deadLetter;
      if (dl !== undefined) owned.add(dl);
    }
    for (const resource of owned) {
      const dispose = (resource as Partial<AsyncDisposable> | null)?.[Symbol.asyncDispose];
      if (typeof dispose !== 'function') continue;
      try {
        await dispose.call(resource);
      } catch (error) {
        // Surfaced: the stream rejects with it unless it already failed.
        const asSource = this.runners.filter((r) => r.definition.sources.includes(resource as Source));
        const owners = asSource.length > 0 ? asSource : this.runners.filter((r) => r.definition.options.sinks.includes(resource as never) || r.definition.options.errors.deadLetter === resource);
        const names = owners.map((r) => r.name).join(', ');
        this.error ??= new SnapError(asSource.length > 0 ? 'SNOOPY_SOURCE_FAILED' : 'SNOOPY_SNAP_SINK', names, error);
      }
    }
  }

  private trapSignals(): () => void {
    let seen = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      seen++;
      if (seen === 1) {
        this.logger.info({ signal: sig }, 'signal received, finishing in-flight messages (send again to exit now)');
        this.stop('signal');
      } else {
        this.logger.warn({ signal: sig }, 'second signal, exiting now');
        process.exit(sig === 'SIGINT' ? 130 : 143);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  }

  private summary(): StreamSummary {
    const snaps: Record<string, ReturnType<Runner['summary']>> = {};
    let inCount = 0;
    let out = 0;
    let errors = 0;
    for (const r of this.runners) {
      const s = r.summary();
      snaps[r.name] = s;
      inCount += s.in;
      out += s.out;
      errors += s.errors;
    }
    return { in: inCount, out, errors, durationMs: Math.round(performance.now() - this.started), reason: this.reason, snaps };
  }
}

const never = new Promise<void>(() => {});

/** One timer for the whole stop. */
class Deadline {
  expired = false;
  readonly passed: Promise<void>;
  private timer: NodeJS.Timeout | undefined;

  constructor(ms: number) {
    this.passed = new Promise<void>((resolve) => {
      this.timer = setTimeout(() => {
        this.expired = true;
        resolve();
      }, ms);
    });
  }

  cancel(): void {
    clearTimeout(this.timer);
  }
}
