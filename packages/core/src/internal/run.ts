import type { Logger } from 'pino';
import { SnoopyError } from '../errors.js';
import { isFlushing, flush } from '../protocol.js';
import type { ResolvedStreamOptions, Source } from '../options.js';
import type { StreamSummary } from '../context.js';
import { Pump, sizeOf } from './pump.js';
import { Runner, type RunControl, type SnapDefinition } from './runner.js';
import { Progress } from './progress.js';

type Reason = StreamSummary['reason'];

/** One execution of `stream()`: its pumps, its runners, and the way it stops. */
export class Run implements RunControl {
  stopping = false;
  private error: SnoopyError | undefined;
  private reason: Reason = 'end';
  private readonly controller = new AbortController();
  private readonly stopWaiters: (() => void)[] = [];
  private readonly runners: Runner[];
  private readonly pumps: Pump[] = [];
  private readonly started = performance.now();

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
          runner.addSource(sizeOf(source));
        }
      }
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  fail(error: SnoopyError): void {
    if (this.error === undefined) {
      this.error = error;
      this.logger.error({ err: error }, 'stream failed, stopping');
    }
    this.stop('end');
  }

  stop(reason: Reason): void {
    if (this.stopping) return;
    this.stopping = true;
    this.reason = reason;
    this.controller.abort(this.error ?? new Error(`stream stopped (${reason})`));
    for (const w of this.stopWaiters.splice(0)) w();
    for (const r of this.runners) r.wake();
  }

  async execute(): Promise<StreamSummary> {
    const { signal, handleSignals, progress, closeTimeoutMs, dispose } = this.options;
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
    try {
      const pumping = Promise.all(this.pumps.map((p) => p.start()));
      await Promise.race([pumping, new Promise<void>((resolve) => this.stopWaiters.push(resolve))]);
      if (this.stopping) this.logger.info({ reason: this.error ? 'error' : this.reason }, 'stream stopping');
      // Graceful: partial batches still run. After an error they are left unacknowledged.
      if (this.error === undefined) for (const r of this.runners) r.drainBatch();
      await this.drain(this.error === undefined ? undefined : closeTimeoutMs);
      this.stopping = true;
      await Promise.all(this.pumps.map((p) => p.close(closeTimeoutMs)));
      await this.drain(this.error === undefined ? undefined : closeTimeoutMs);
    } finally {
      for (const c of cleanups) c();
      bar?.stop();
      if (dispose) await this.disposeAll();
    }
    const summary = this.summary();
    if (this.error !== undefined) throw this.error;
    this.logger.info({ ...summary, snaps: undefined }, 'stream finished');
    return summary;
  }

  /** Waits until every runner is idle: no handler in flight, no completion outstanding. */
  private async drain(boundMs: number | undefined): Promise<void> {
    let flushed = false;
    const deadline = boundMs === undefined ? Infinity : performance.now() + boundMs;
    for (const runner of this.runners) {
      while (!runner.idle) {
        if (!flushed) {
          flushed = true;
          await this.flushSinks();
          continue;
        }
        if (performance.now() >= deadline) return;
        if (boundMs === undefined) await runner.changed();
        else {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([runner.changed(), new Promise<void>((r) => (timer = setTimeout(r, 100)))]);
          clearTimeout(timer);
        }
      }
    }
  }

  private async flushSinks(): Promise<void> {
    const sinks = new Set<unknown>(this.runners.flatMap((r) => r.definition.options.sinks));
    await Promise.all(
      [...sinks].filter(isFlushing).map((s) =>
        s[flush]().catch((error: unknown) => this.logger.warn({ err: error }, 'sink flush failed')),
      ),
    );
  }

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
        this.logger.warn({ err: error }, 'closing a source or sink failed');
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
