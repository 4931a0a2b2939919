import type { Runner } from './runner.js';

/**
 * The periodic progress line of an endless stream: every `intervalMs`, one info line per snap
 * with its rate since the last line, its totals and, when its sources report it, consumer lag.
 * The timer is unref'd (it never keeps the process alive) and cleared by `stop()`.
 */
export class ProgressLog {
  private timer: NodeJS.Timeout | undefined;
  private last: { at: number; counts: number[] };

  constructor(
    private readonly runners: readonly Runner[],
    intervalMs: number,
  ) {
    this.last = { at: performance.now(), counts: runners.map((r) => r.stats.in) };
    this.timer = setInterval(() => this.log(), intervalMs);
    this.timer.unref();
  }

  /** Writes one line per snap now. */
  log(): void {
    const at = performance.now();
    const seconds = Math.max((at - this.last.at) / 1000, 1e-3);
    const counts = this.runners.map((r, i) => {
      const { in: inCount, out, errors } = r.stats;
      const rate = Math.round(((inCount - this.last.counts[i]!) / seconds) * 10) / 10;
      const lag = r.lag;
      r.logger.info({ rate, in: inCount, out, errors, ...(lag === undefined ? {} : { lag }) }, 'progress');
      return inCount;
    });
    this.last = { at, counts };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
