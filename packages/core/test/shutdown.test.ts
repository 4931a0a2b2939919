// Shutdown: a real worker process stopped with SIGTERM/SIGINT, and stream({ signal }) in-process.
// Every wait is bounded by a timeout that fails the test; nothing asserts on speed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { pino } from 'pino';
import { Registry } from '@snoopy/core';
import { buildCore, childEnv, fixturesDir } from './fixtures/build.js';
import { within } from './within.js';

const app = join(fixturesDir, 'shutdown/app.mjs');
const silent = pino({ level: 'silent' });


interface AppEvent {
  event: 'started' | 'stopping' | 'done' | 'source-finally' | 'sink-closed' | 'summary';
  n?: number;
  summary?: { in: number; out: number; errors: number; reason: string };
  started?: number[];
  finished?: number[];
  sourceClosed?: boolean;
}

/** The worker fixture as a child process, its stdout events and stderr (pino) lines collected. */
class Worker {
  readonly events: AppEvent[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly listeners = new Set<() => void>();

  constructor(mode: 'graceful' | 'hang') {
    this.child = spawn(process.execPath, [app, mode], { cwd: join(fixturesDir, 'shutdown'), env: childEnv() });
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      this.notify();
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.events.push(JSON.parse(line) as AppEvent);
      this.notify();
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    onTestFinished(async () => {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    });
  }

  of(kind: AppEvent['event']): AppEvent[] {
    return this.events.filter((e) => e.event === kind);
  }

  kill(signal: NodeJS.Signals): void {
    expect(this.child.kill(signal), `sending ${signal}`).toBe(true);
  }

  /** Resolves once `condition` holds; fails if the child exits first or `ms` pass. */
  until(condition: () => boolean, ms: number, what: string): Promise<void> {
    const waiting = new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (condition()) {
          this.listeners.delete(check);
          resolve();
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          this.listeners.delete(check);
          reject(new Error(`the worker exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}\nstderr: ${this.stderr}`));
        }
      };
      this.listeners.add(check);
      check();
    });
    return within(waiting, ms, `${what}\nstdout events: ${this.events.length}\nstderr: ${this.stderr}`);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

beforeAll(buildCore);

describe('a worker process stopped by a signal', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: stops pulling, finishes in-flight messages, closes the source and exits 0 by itself', async (signal) => {
    const worker = new Worker('graceful');
    await worker.until(() => worker.of('done').length >= 5, 20_000, 'five processed messages');
    worker.kill(signal);
    const exit = await within(worker.exited, 20_000, `the worker to exit after ${signal}`);

    expect(exit, worker.stderr).toEqual({ code: 0, signal: null });
    const summaries = worker.of('summary');
    expect(summaries).toHaveLength(1);
    const { summary, started, finished, sourceClosed } = summaries[0]!;
    expect(summary).toMatchObject({ reason: 'signal', errors: 0 });
    // No half-done message: every message the handler started reached the sink, in order.
    expect(finished).toEqual(started);
    expect(worker.of('done').map((e) => e.n)).toEqual(worker.of('started').map((e) => e.n));
    expect(summary!.in).toBe(started!.length);
    expect(summary!.out).toBe(finished!.length);
    expect(started!.length).toBeGreaterThanOrEqual(5);
    // The source's `finally` ran (return() was called) and the sink was closed, after the last
    // message was done and before the stream resolved.
    expect(sourceClosed).toBe(true);
    const order = worker.events.map((e) => e.event);
    const lastDone = order.lastIndexOf('done');
    expect(order.indexOf('source-finally')).toBeGreaterThan(lastDone);
    expect(order.indexOf('sink-closed')).toBeGreaterThan(lastDone);
    expect(order.indexOf('source-finally')).toBeLessThan(order.indexOf('summary'));
    expect(order.indexOf('sink-closed')).toBeLessThan(order.indexOf('summary'));
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('a second %s while a handler hangs forces exit with code %i', async (signal, code) => {
    const worker = new Worker('hang');
    await worker.until(() => worker.of('started').length >= 1, 20_000, 'a handler to start');
    worker.kill(signal);
    // The first signal has been handled (graceful stop begun) before the second is sent.
    await worker.until(() => worker.of('stopping').length === 1, 20_000, `the handler's signal to abort on the first ${signal}`);
    worker.kill(signal);
    const exit = await within(worker.exited, 20_000, `the worker to exit after a second ${signal}`);

    expect(exit, worker.stderr).toEqual({ code, signal: null });
    expect(worker.of('summary')).toEqual([]);
    expect(worker.of('done')).toEqual([]);
  });
});

describe('stream({ signal })', () => {
  it('aborting stops pulling, finishes in-flight messages, closes the source and resolves with reason abort', async () => {
    const registry = new Registry();
    const controller = new AbortController();
    const started: number[] = [];
    const finished: number[] = [];
    let sourceClosed = false;
    let pulled = 0;
    async function* numbers(): AsyncGenerator<number> {
      try {
        for (let n = 0; ; n++) {
          await sleep(1);
          pulled++;
          yield n;
        }
      } finally {
        sourceClosed = true;
      }
    }
    let reachedFive: () => void = () => {};
    const fiveDone = new Promise<void>((resolve) => (reachedFive = resolve));
    registry.snap(numbers(), {
      concurrency: 2,
      sink: async (n: number) => {
        await sleep(10);
        finished.push(n);
        if (finished.length === 5) reachedFive();
      },
    })(async (n: number) => {
      started.push(n);
      await sleep(3);
      return n;
    });

    const sigtermListeners = process.listenerCount('SIGTERM');
    const running = registry.stream({ signal: controller.signal, handleSignals: false, progress: false, logger: silent });
    running.catch(() => undefined); // awaited below; a rejection must not go unhandled meanwhile
    await within(Promise.race([fiveDone, running]), 20_000, 'five processed messages');
    // handleSignals: false leaves the process's signal handling alone.
    expect(process.listenerCount('SIGTERM')).toBe(sigtermListeners);
    controller.abort();
    const summary = await within(running, 20_000, 'stream() to resolve after abort');

    expect(summary.reason).toBe('abort');
    expect(summary.errors).toBe(0);
    expect(finished).toEqual(started);
    expect(summary.in).toBe(started.length);
    expect(summary.out).toBe(finished.length);
    expect(sourceClosed).toBe(true);
    // Stopped pulling: at most the one item already being awaited was read and left unprocessed.
    expect(pulled - started.length).toBeLessThanOrEqual(1);
  });

  it('an already aborted signal resolves at once with reason abort and closes the source', async () => {
    const registry = new Registry();
    let returned = 0;
    let nexts = 0;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: nexts++ }),
        return: async () => {
          returned++;
          return { done: true, value: undefined };
        },
      }),
    };
    const handled: number[] = [];
    registry.snap(source)((n: number) => {
      handled.push(n);
    });

    const summary = await within(
      registry.stream({ signal: AbortSignal.abort(), handleSignals: false, progress: false, logger: silent }),
      20_000,
      'stream() with an aborted signal',
    );

    expect(summary).toMatchObject({ reason: 'abort', in: 0, out: 0, errors: 0 });
    expect(handled).toEqual([]);
    expect(nexts).toBe(0);
    expect(returned).toBe(1);
  });

  it('stream() traps SIGINT and SIGTERM only while it runs, whether it resolves or rejects', async () => {
    const before = { SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM') };
    const during: number[] = [];
    const registry = new Registry();
    registry.snap([1])(() => {
      during.push(process.listenerCount('SIGINT') - before.SIGINT, process.listenerCount('SIGTERM') - before.SIGTERM);
    });
    await within(registry.stream({ progress: false, logger: silent }), 20_000, 'stream() to resolve');
    expect(during).toEqual([1, 1]);
    expect(process.listenerCount('SIGINT')).toBe(before.SIGINT);
    expect(process.listenerCount('SIGTERM')).toBe(before.SIGTERM);

    registry.snap([1])(() => {
      throw new Error('boom');
    });
    await expect(within(registry.stream({ progress: false, logger: silent }), 20_000, 'stream() to reject')).rejects.toMatchObject({
      code: 'SNOOPY_SNAP_HANDLER',
    });
    expect(process.listenerCount('SIGINT')).toBe(before.SIGINT);
    expect(process.listenerCount('SIGTERM')).toBe(before.SIGTERM);
  });
});
