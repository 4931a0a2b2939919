// On a terminal, human log lines go above the progress bars: a bar clears its lines before a log
// line is written and redraws after. A small terminal model replays what was written.
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Registry, type SnapContext } from '@snoopy/core';
import { prettyDestination } from '../src/logger.js';

/** The screen a terminal shows after `text`: handles \r, \n, ESC[nA (up), ESC[2K (clear line), ESC[J (clear below). */
function screen(text: string): string[] {
  const rows: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string): void => {
    const line = (rows[row] ?? '').padEnd(col, ' ');
    rows[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  // eslint-disable-next-line no-control-regex
  const tokens = text.match(/\x1b\[\d*[A-Za-z]|[\s\S]/g) ?? [];
  for (const t of tokens) {
    if (t === '\n') {
      row++;
      col = 0;
      rows[row] ??= '';
    } else if (t === '\r') col = 0;
    else if (t.startsWith('\x1b[')) {
      const n = Number(t.slice(2, -1) || '1');
      const op = t.at(-1);
      if (op === 'A') row = Math.max(0, row - n);
      else if (op === 'K') rows[row] = '';
      else if (op === 'J') {
        rows[row] = (rows[row] ?? '').slice(0, col);
        rows.length = row + 1;
      }
    } else put(t);
  }
  return rows.filter((r) => r.length > 0);
}

function tty(): { out: PassThrough & { isTTY: boolean; columns: number }; text: () => string } {
  const out = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
  let text = '';
  out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  onTestFinished(() => void out.destroy());
  return { out, text: () => text };
}

describe('progress bars and pretty log lines on one terminal', () => {
  it('every log line stays whole above the bar while it is live, and the bar ends below them', async () => {
    const term = tty();
    const logger = pino({ level: 'info' }, prettyDestination(term.out));
    const frames = (): number => (term.text().match(/\] \d+% /g) ?? []).length;
    const r = new Registry();
    r.snap(['a', 'b', 'c', 'd'], { name: 'slow' })(async (s: string, ctx: SnapContext) => {
      // Wait for a redraw of the bar, so that each log line lands between two bar frames.
      const seen = frames();
      const deadline = Date.now() + 20_000;
      while (frames() === seen) {
        if (Date.now() > deadline) throw new Error(`no bar redraw within 20 s: ${JSON.stringify(term.text())}`);
        await sleep(10);
      }
      ctx.logger.info({ item: s }, `handling item ${s}`);
      return s;
    });
    await r.stream({ logger, progress: term.out, handleSignals: false, progressIntervalMs: false });

    const lines = screen(term.text());
    const logLines = lines.filter((l) => l.includes('handling item'));
    expect(logLines.map((l) => /handling item (\w)/.exec(l)![1])).toEqual(['a', 'b', 'c', 'd']);
    for (const l of logLines) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  snap: handling item \w snap=slow item=\w$/);
    // One bar on screen, below every line logged while it was live; once the bars are gone
    // (the stream settled), later lines simply follow it.
    const bars = lines.filter((l) => l.includes('%'));
    expect(bars).toHaveLength(1);
    expect(bars[0]).toMatch(/^slow \[#+\] 100% 4\/4$/);
    const barAt = lines.indexOf(bars[0]!);
    expect(lines.findLastIndex((l) => l.includes('handling item'))).toBeLessThan(barAt);
    expect(lines.slice(barAt + 1)).toEqual([expect.stringMatching(/INFO  stream: stream finished in=4/)]);
  });
});
