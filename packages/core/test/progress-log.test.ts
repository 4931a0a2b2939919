import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Registry, progress, resolveStreamOptions, type ProgressReport } from '@snoopy/core';

/** A logger whose JSON lines are kept. */
function recording(): { logger: pino.Logger; lines: () => Record<string, any>[] } {
  const raw: string[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void raw.push(l) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, any>) };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An endless source that reports a lag, like a Kafka consumer would; stops when `signal` aborts. */
function endless(signal: AbortSignal, lag: number): AsyncIterable<number> & { [progress](): ProgressReport } {
  return {
    [progress]: () => ({ lag }),
    async *[Symbol.asyncIterator]() {
      for (let i = 0; !signal.aborted; i++) {
        yield i;
        await tick(2);
      }
    },
  };
}

describe('periodic progress lines (progressIntervalMs)', () => {
  it('logs one info line per snap with rate, totals and the lag its source reports, and stops with the stream', async () => {
    const { logger, lines } = recording();
    const controller = new AbortController();
    const r = new Registry();
    r.snap(endless(controller.signal, 42), { name: 'counter', sink: () => {} })((n: number) => n);
    r.snap(endless(controller.signal, 7), { name: 'failing', errors: 'skip' })((n: number) => {
      if (n % 2 === 0) throw new Error('even');
      return n;
    });
    const progressLines = () => lines().filter((l) => l.msg === 'progress');
    const running = r.stream({ logger, handleSignals: false, progress: false, signal: controller.signal, progressIntervalMs: 20 });
    await until(
      'two progress lines from counter, one with errors from failing',
      () => progressLines().filter((l) => l.snap === 'counter' && l.in > 0).length >= 2 && progressLines().some((l) => l.snap === 'failing' && l.errors > 0),
    );
    controller.abort();
    const summary = await running;

    const counter = progressLines().filter((l) => l.snap === 'counter' && l.in > 0).at(-1)!;
    expect(counter).toMatchObject({ level: 30, component: 'snap', lag: 42, errors: 0 });
    expect(typeof counter.rate).toBe('number');
    expect(counter.rate).toBeGreaterThanOrEqual(0);
    expect(counter.out).toBeLessThanOrEqual(counter.in);
    const failing = progressLines().filter((l) => l.snap === 'failing' && l.errors > 0).at(-1)!;
    expect(failing.lag).toBe(7);
    expect(failing.in).toBeLessThanOrEqual(summary.snaps.failing!.in);

    // The timer went with the stream.
    const after = progressLines().length;
    await tick(150);
    expect(progressLines().length).toBe(after);
  });

  it('no lag field when no source reports one; false turns the lines off', async () => {
    const { logger, lines } = recording();
    const r = new Registry();
    const slow = async function* () {
      for (let i = 0; i < 30; i++) {
        yield i;
        await tick(5);
      }
    };
    r.snap(slow(), { name: 'plain' })((n: number) => n);
    await r.stream({ logger, handleSignals: false, progress: false, progressIntervalMs: 5 });
    const progressLines = lines().filter((l) => l.msg === 'progress');
    expect(progressLines.length).toBeGreaterThan(0);
    expect(progressLines.every((l) => !('lag' in l))).toBe(true);

    const off = recording();
    r.snap(slow(), { name: 'plain' })((n: number) => n);
    await r.stream({ logger: off.logger, handleSignals: false, progress: false, progressIntervalMs: false });
    expect(off.lines().filter((l) => l.msg === 'progress')).toEqual([]);
  });

  it('validates the option: 30 s by default, 0 means off, anything else is refused', () => {
    expect(resolveStreamOptions({}).progressIntervalMs).toBe(30_000);
    expect(resolveStreamOptions({ progressIntervalMs: 0 }).progressIntervalMs).toBe(false);
    expect(resolveStreamOptions({ progressIntervalMs: false }).progressIntervalMs).toBe(false);
    expect(() => resolveStreamOptions({ progressIntervalMs: -5 })).toThrow(
      'Expected `progressIntervalMs` to be an integer >= 0 (milliseconds) or false, got `-5` (number)',
    );
    expect(() => resolveStreamOptions({ progressIntervalMs: true as never })).toThrow('got `true` (boolean)');
    expect(() => resolveStreamOptions({ progresIntervalMs: 5 } as never)).toThrow(/progresIntervalMs/);
  });
});
