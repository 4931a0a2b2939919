// Progress bars: drawn per snap of known size, only on a TTY.
// A PassThrough with `isTTY = true` stands in for a terminal; what it receives is what a user sees.
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { progress, Registry, type ProgressReport, type StreamOptions } from '@snoopy/core';

const silent = pino({ level: 'silent' });

/** A writable that says it is a terminal (or not), recording everything written to it. */
function terminal(isTTY: boolean): { out: PassThrough & { isTTY?: boolean }; text: () => string } {
  const out: PassThrough & { isTTY?: boolean } = new PassThrough();
  if (isTTY) out.isTTY = true;
  let text = '';
  out.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  onTestFinished(() => {
    out.destroy();
  });
  return { out, text: () => text };
}

/** The lines on screen after the last redraw: escape sequences and carriage returns removed. */
function screenLines(text: string): string[] {
  // eslint-disable-next-line no-control-regex
  const frames = text.split(/\x1b\[\d+A/);
  return frames
    .at(-1)!
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[\d*K/g, '')
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.length > 0);
}

const bar = (name: string, percent: number, done: number, total: number): RegExp =>
  new RegExp(`^${name} \\[[#-]{10,40}\\] ${percent}% ${done}/${total}$`);

function run(registry: Registry, progress: StreamOptions['progress']): ReturnType<Registry['stream']> {
  return registry.stream({ progress, handleSignals: false, logger: silent });
}

describe('progress bars', () => {
  it('draws one bar per snap of known size on a TTY, each ending at 100% and N/N', async () => {
    const registry = new Registry();
    const seen: unknown[] = [];
    registry.snap([1, 2, 3, 4, 5], { name: 'squares', sink: (v) => seen.push(v) })((n: number) => n * n);
    registry.snap(new Set(['a', 'b', 'c']), { name: 'letters', sink: (v) => seen.push(v) })((s: string) => s.toUpperCase());
    const tty = terminal(true);

    const summary = await run(registry, tty.out);

    expect(summary.in).toBe(8);
    expect(seen).toHaveLength(8);
    const lines = screenLines(tty.text());
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(bar('squares', 100, 5, 5));
    expect(lines[1]).toMatch(bar('letters', 100, 3, 3));
    expect(lines[0]).toContain(`[${'#'.repeat(40)}]`);
  });

  it('counts every source of a snap in its total', async () => {
    const registry = new Registry();
    registry.snap([1, 2], [3, 4, 5], { name: 'both' })((n: number) => n);
    const tty = terminal(true);

    await run(registry, tty.out);

    expect(screenLines(tty.text())).toEqual([expect.stringMatching(bar('both', 100, 5, 5))]);
  });

  it('redraws in place while the stream runs', async () => {
    const registry = new Registry();
    const tty = terminal(true);
    registry.snap(['a', 'b', 'c', 'd'], { name: 'slow' })(async (s: string) => {
      // Hold the second message until the bar has shown it: a frame drawn mid-stream.
      if (s === 'b') {
        const deadline = Date.now() + 10_000;
        while (!tty.text().includes(' 2/4')) {
          if (Date.now() > deadline) throw new Error(`no frame showing 2/4 within 10 s: ${JSON.stringify(tty.text())}`);
          await sleep(20);
        }
      }
      return s;
    });

    await run(registry, tty.out);

    const text = tty.text();
    expect(text).toMatch(/slow \[#{20}-{20}\] 50% 2\/4/);
    // Each later frame moves the cursor back up over the previous one instead of scrolling.
    expect(text.match(/\x1b\[1A/g)?.length).toBeGreaterThanOrEqual(1);
    expect(screenLines(text)).toEqual([expect.stringMatching(bar('slow', 100, 4, 4))]);
  });

  it('draws nothing on a writable that is not a TTY', async () => {
    const registry = new Registry();
    const seen: unknown[] = [];
    registry.snap([1, 2, 3], { name: 'plain', sink: (v) => seen.push(v) })((n: number) => n);
    const pipe = terminal(false);

    const summary = await run(registry, pipe.out);

    expect(summary.in).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
    expect(pipe.text()).toBe('');
  });

  it('draws no bar for a source of unknown size', async () => {
    const registry = new Registry();
    async function* three(): AsyncGenerator<number> {
      yield* [1, 2, 3];
    }
    const seen: unknown[] = [];
    registry.snap(three(), { name: 'unsized', sink: (v) => seen.push(v) })((n: number) => n);
    const tty = terminal(true);

    await run(registry, tty.out);

    expect(seen).toEqual([1, 2, 3]);
    expect(tty.text()).toBe('');
  });

  it('draws bars only for the snaps of known size when sizes are mixed', async () => {
    const registry = new Registry();
    async function* twoOfUnknownSize(): AsyncGenerator<number> {
      yield* [1, 2];
    }
    registry.snap(twoOfUnknownSize(), { name: 'unsized' })((n: number) => n);
    registry.snap([1, 2, 3], { name: 'sized' })((n: number) => n);
    const tty = terminal(true);

    await run(registry, tty.out);

    expect(screenLines(tty.text())).toEqual([expect.stringMatching(bar('sized', 100, 3, 3))]);
  });

  it('takes no size from a function object that is also a source (a Topic or a Cache): its length is its arity', async () => {
    const registry = new Registry();
    // Callable like a sink, iterable like a source, with a function's `length` of 2.
    const topicLike = Object.assign(function topic(_value: unknown, _options: unknown): void {}, {
      async *[Symbol.asyncIterator](): AsyncGenerator<number> {
        yield* [1, 2, 3, 4, 5];
      },
    });
    expect(topicLike.length).toBe(2);
    const seen: unknown[] = [];
    registry.snap(topicLike, { name: 'topic', sink: (v) => seen.push(v) })((n: number) => n);
    const tty = terminal(true);

    await run(registry, tty.out);

    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(tty.text()).toBe('');
  });

  it('counts a Set and a Map by their size, and nothing else that merely has a size or length', async () => {
    const registry = new Registry();
    registry.snap(new Set([1, 2, 3]), { name: 'set' })((n: number) => n);
    registry.snap(new Map([[1, 1]]), { name: 'map' })((e: unknown) => e);
    const sizeLike = { size: 7, length: 9, *[Symbol.iterator]() { yield 1; } };
    registry.snap(sizeLike, { name: 'claims' })((n: number) => n);
    const tty = terminal(true);

    await run(registry, tty.out);

    expect(screenLines(tty.text())).toEqual([expect.stringMatching(bar('set', 100, 3, 3)), expect.stringMatching(bar('map', 100, 1, 1))]);
  });
});

describe('sources that report their own progress ([progress] protocol)', () => {
  /** An async source that learns its total only once it starts reading, like a paged API. */
  class Paged implements AsyncIterable<number> {
    loaded = 0;
    total: number | undefined;
    constructor(private readonly items: readonly number[]) {}
    [progress](): ProgressReport | undefined {
      return this.total === undefined ? undefined : { loaded: this.loaded, total: this.total, message: `page ${this.loaded}\nof ${this.total}` };
    }
    async *[Symbol.asyncIterator](): AsyncGenerator<number> {
      this.total = this.items.length;
      for (const item of this.items) {
        this.loaded++;
        yield item;
      }
    }
  }

  it('draws a bar with the total the source reports while running, its message after it, and puts both in the summary', async () => {
    const registry = new Registry();
    const source = new Paged([1, 2, 3, 4]);
    const tty = terminal(true);
    registry.snap(source, { name: 'paged' })(async (n: number) => {
      // Hold the second message until a frame shows the reported total mid-stream.
      if (n === 2) {
        const deadline = Date.now() + 10_000;
        while (!tty.text().includes(' 2/4')) {
          if (Date.now() > deadline) throw new Error(`no frame showing 2/4 within 10 s: ${JSON.stringify(tty.text())}`);
          await sleep(20);
        }
      }
      return n;
    });

    const summary = await run(registry, tty.out);

    expect(tty.text()).toMatch(/paged \[#{20}-{20}\] 50% 2\/4 page 2 of 4/);
    expect(screenLines(tty.text())).toEqual([expect.stringMatching(/^paged \[#{40}\] 100% 4\/4 page 4 of 4$/)]);
    expect(summary.snaps.paged).toMatchObject({ in: 4, total: 4, progress: [{ loaded: 4, total: 4, message: 'page 4\nof 4' }] });
  });

  it('adds a reported total to the sizes of the snap\'s other sources', async () => {
    const registry = new Registry();
    registry.snap([10, 20], new Paged([1, 2, 3]), { name: 'mixed' })((n: number) => n);
    const tty = terminal(true);

    const summary = await run(registry, tty.out);

    expect(screenLines(tty.text())).toEqual([expect.stringMatching(/^mixed \[#{40}\] 100% 5\/5 page 3 of 3$/)]);
    expect(summary.snaps.mixed!.total).toBe(5);
  });

  it('draws no bar and reports no total while a source reports none, nor when another source is of unknown size', async () => {
    const registry = new Registry();
    const silentSource = { [progress]: () => undefined, *[Symbol.iterator]() { yield* [1, 2]; } };
    async function* unsized(): AsyncGenerator<number> {
      yield 1;
    }
    registry.snap(silentSource, { name: 'quiet' })((n: number) => n);
    registry.snap(unsized(), new Paged([1]), { name: 'partly' })((n: number) => n);
    const tty = terminal(true);

    const summary = await run(registry, tty.out);

    expect(tty.text()).toBe('');
    expect(summary.snaps.quiet).toMatchObject({ in: 2, progress: [{}] });
    expect(summary.snaps.quiet!.total).toBeUndefined();
    expect(summary.snaps.partly).toMatchObject({ in: 2, progress: [{ loaded: 1, total: 1 }] });
    expect(summary.snaps.partly!.total).toBeUndefined();
  });

  it('gives arrays their size in the summary too, and no progress field without a reporting source', async () => {
    const registry = new Registry();
    registry.snap([1, 2, 3], { name: 'array' })((n: number) => n);

    const summary = await run(registry, false);

    expect(summary.snaps.array!.total).toBe(3);
    expect('progress' in summary.snaps.array!).toBe(false);
  });
});
