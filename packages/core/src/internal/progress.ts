import type { Runner } from './runner.js';
import { addOverlay } from './terminal.js';

/**
 * One progress bar per snap of known size, redrawn in place; only on a TTY. A size is known at
 * start (arrays, Sets, Maps) or reported while running (sources with core's `[progress]`), so
 * totals are read at each redraw and a bar appears once its total is known. Human log lines
 * written to the same stream (core's pretty format) go above the bars, never between them.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private drawn = 0;
  /** What the last draw showed, painted again below a log line. */
  private lines: string[] = [];
  private readonly removeOverlay: () => void;

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly runners: readonly Runner[],
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
    this.removeOverlay = addOverlay(out, {
      erase: () => {
        const text = this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
        this.drawn = 0;
        return text;
      },
      paint: () => {
        this.drawn = this.lines.length;
        return this.lines.map((l) => `\r\x1b[2K${l}\n`).join('');
      },
    });
  }

  static wanted(out: (NodeJS.WritableStream & { isTTY?: boolean }) | false, runners: readonly Runner[]): boolean {
    return out !== false && out.isTTY === true && runners.some((r) => r.mayHaveTotal);
  }

  draw(): void {
    const lines: string[] = [];
    for (const r of this.runners) {
      const total = r.total;
      if (total === undefined || total <= 0) continue;
      const message = r.progressMessage;
      lines.push(this.line(r.name, r.stats.in, total) + (message === undefined ? '' : ` ${message}`));
    }
    if (lines.length === 0 && this.drawn === 0) return;
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    text += lines.map((l) => `\r\x1b[2K${l}\n`).join('');
    this.drawn = lines.length;
    this.lines = lines;
    this.out.write(text);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    this.removeOverlay();
  }

  private line(name: string, done: number, total: number): string {
    const ratio = Math.min(1, done / total);
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - name.length - 30));
    const filled = Math.round(ratio * width);
    return `${name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${done}/${total}`;
  }
}
