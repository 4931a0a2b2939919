import type { Runner } from './runner.js';

/** One progress bar per snap of known size, redrawn in place; only on a TTY. */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private drawn = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly runners: readonly Runner[],
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
  }

  static wanted(out: (NodeJS.WritableStream & { isTTY?: boolean }) | false, runners: readonly Runner[]): boolean {
    return out !== false && out.isTTY === true && runners.some((r) => r.total !== undefined && r.total > 0);
  }

  draw(): void {
    const lines = this.runners
      .filter((r) => r.total !== undefined && r.total > 0)
      .map((r) => this.line(r.name, r.stats.in, r.total!));
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    text += lines.map((l) => `\r\x1b[2K${l}\n`).join('');
    this.drawn = lines.length;
    this.out.write(text);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
  }

  private line(name: string, done: number, total: number): string {
    const ratio = Math.min(1, done / total);
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - name.length - 30));
    const filled = Math.round(ratio * width);
    return `${name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${done}/${total}`;
  }
}
