import type { DataSource, SourceProgress } from '../data-source.js';

/** One line on a TTY: `name [####----] 40% 400/1000 message`, redrawn every 200 ms. */
export class ProgressLine {
  private readonly timer: NodeJS.Timeout;
  private latest: SourceProgress | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    private readonly name: string,
    source: DataSource,
  ) {
    this.unsubscribe = source.on('progress', (p) => (this.latest = p));
    this.timer = setInterval(() => this.draw(), 200);
    this.timer.unref();
  }

  private draw(): void {
    const p = this.latest;
    if (p === undefined) return;
    let line = `${this.name} ${p.loaded}`;
    if (p.total !== undefined && p.total > 0) {
      const ratio = Math.min(1, p.loaded / p.total);
      const width = 30;
      const filled = Math.round(ratio * width);
      line = `${this.name} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${p.loaded}/${p.total}`;
    }
    if (p.message !== undefined) line += ` ${p.message}`;
    this.out.write(`\r\x1b[2K${line.slice(0, (this.out.columns ?? 100) - 1)}`);
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe();
    if (this.latest !== undefined) {
      this.draw();
      this.out.write('\n');
    }
  }
}
