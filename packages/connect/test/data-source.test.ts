import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { progress, Registry, type StreamSummary } from '@snoopy/core';
import { Cache } from '@snoopy/cache';
import { bufferedWriter, DataSource, type DataSourceOptions } from '../src/index.js';
import { gate, permanent, settle, tempDir, until } from './helpers.js';

/** Pages of `size` numbers up to `last`, with the page number as checkpoint. */
class Pages extends DataSource<number, { size: number; last: number; stopAt?: number }, number> {
  static override params = [
    { name: 'size', type: 'number', required: true },
    { name: 'last', type: 'number', required: true },
    { name: 'stopAt', type: 'number' },
  ] as const;
  closes = 0;
  reads = 0;
  failWith: (read: number) => Error | undefined = () => undefined;

  protected override read(): number[] | null {
    this.reads++;
    const failure = this.failWith(this.reads);
    if (failure) throw failure;
    const page = (this.checkpoint ?? 0) + 1;
    const { size, last, stopAt } = this.params;
    if ((page - 1) * size >= last || (stopAt !== undefined && page > stopAt)) return null;
    const items = Array.from({ length: size }, (_, i) => (page - 1) * size + i + 1).filter((n) => n <= last);
    this.state(page);
    this.progress(Math.min(page * size, last), last, `page ${page}`);
    return items;
  }

  protected override close(): void {
    this.closes++;
  }
}

async function runInto(source: AsyncIterable<unknown>, out: unknown[], signal?: AbortSignal): Promise<StreamSummary> {
  const registry = new Registry();
  registry.snap(source, { sink: (x: unknown) => void out.push(x) })((x: unknown) => x);
  return registry.stream({ handleSignals: false, progress: false, ...(signal ? { signal } : {}) });
}

async function openCache(path = join(tempDir(), 'state')): Promise<Cache<unknown>> {
  const cache = await Cache.open<unknown>(path);
  onTestFinished(() => cache.close());
  return cache;
}

describe('DataSource', () => {
  it('is a snap source: every item once, close() exactly once at the end', async () => {
    const source = new Pages({ size: 3, last: 10 });
    const out: unknown[] = [];
    const summary = await runInto(source, out);
    expect(out).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(summary.in).toBe(10);
    expect(source.closes).toBe(1);
    expect(source.checkpoint).toBe(4);
    expect(source.lastReportedProgress).toEqual({ loaded: 10, total: 10, message: 'page 4' });
    await source[Symbol.asyncDispose]();
    expect(source.closes).toBe(1);
  });

  it('calls close() exactly once when read throws, and fails the stream with SNOOPY_CONNECT_READ', async () => {
    const source = new Pages({ size: 3, last: 100 }, { attempts: 3, backoffMs: 1 });
    source.failWith = (n) => (n === 3 ? permanent('the API said 401') : undefined);
    const out: unknown[] = [];
    const failure = await runInto(source, out).then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ code: 'SNOOPY_SOURCE_FAILED', cause: { code: 'SNOOPY_CONNECT_READ' } });
    expect((failure as { cause: Error }).cause.message).toContain('the API said 401');
    expect(source.reads).toBe(3); // not retried: retriable false
    expect(source.closes).toBe(1);
    await source[Symbol.asyncDispose]();
    expect(source.closes).toBe(1);
  });

  it('retries a read that failed with a retriable error, up to `attempts`', async () => {
    const source = new Pages({ size: 5, last: 10 }, { attempts: 3, backoffMs: 1 });
    source.failWith = (n) => (n === 1 || n === 2 ? new Error('ECONNRESET') : undefined);
    const out: unknown[] = [];
    await runInto(source, out);
    expect(out).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const hopeless = new Pages({ size: 5, last: 10 }, { attempts: 2, backoffMs: 1 });
    hopeless.failWith = () => new Error('ECONNRESET');
    await expect(runInto(hopeless, [])).rejects.toMatchObject({ cause: { code: 'SNOOPY_CONNECT_READ' } });
    expect(hopeless.reads).toBe(2);
    expect(hopeless.closes).toBe(1);
  });

  it('a read that returns something other than an array or null fails with SNOOPY_CONNECT_READ, untried again', async () => {
    class Wrong extends DataSource<number> {
      reads = 0;
      protected override read(): number[] {
        this.reads++;
        return 42 as never;
      }
    }
    const source = new Wrong({}, { attempts: 3, backoffMs: 1 });
    await expect(runInto(source, [])).rejects.toMatchObject({ cause: { code: 'SNOOPY_CONNECT_READ', message: expect.stringContaining('must return an array or null, got `42` (number)') } });
    expect(source.reads).toBe(1);
  });

  it('calls close() exactly once when the stream stops early and when a loop breaks', async () => {
    const controller = new AbortController();
    const source = new Pages({ size: 2, last: 1_000_000 });
    const out: unknown[] = [];
    const registry = new Registry();
    registry.snap(source, { sink: (x: unknown) => void out.push(x) })((x: number) => {
      if (x === 7) controller.abort();
      return x;
    });
    const summary = await registry.stream({ handleSignals: false, progress: false, signal: controller.signal });
    expect(summary.reason).toBe('abort');
    expect(source.closes).toBe(1);

    const looped = new Pages({ size: 2, last: 100 });
    for await (const x of looped) if (x === 3) break;
    expect(looped.closes).toBe(1);
    expect(() => looped[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));
  });

  it('resumes from its stored state on the next run', async () => {
    const cache = await openCache();
    const first = new Pages({ size: 3, last: 12, stopAt: 2 }, { stateStore: cache, stateKey: 'pages' });
    const out1: unknown[] = [];
    await runInto(first, out1);
    expect(out1).toEqual([1, 2, 3, 4, 5, 6]);
    expect(cache.get('pages')).toBe(2);

    const second = new Pages({ size: 3, last: 12 }, { stateStore: cache, stateKey: 'pages' });
    expect(second.checkpoint).toBeUndefined();
    const out2: unknown[] = [];
    await runInto(second, out2);
    expect(out2).toEqual([7, 8, 9, 10, 11, 12]);
    expect(cache.get('pages')).toBe(4);
  });

  it('stores a checkpoint only once every item read before it was acknowledged', async () => {
    const cache = await openCache();
    const open = gate();
    const writer = bufferedWriter<{ n: number }>(() => open.promise, { maxRecords: 2 });
    class Objects extends DataSource<{ n: number }, Record<string, never>, number> {
      protected override read(): { n: number }[] | null {
        const page = (this.checkpoint ?? 0) + 1;
        if (page > 3) return null;
        this.state(page);
        return [{ n: page * 2 - 1 }, { n: page * 2 }];
      }
    }
    const source = new Objects({}, { stateStore: cache });
    const stored: number[] = [];
    source.on('state', (s) => stored.push(s.checkpoint));
    const registry = new Registry();
    registry.snap(source, { sink: writer })((x: { n: number }) => x);
    const done = registry.stream({ handleSignals: false, progress: false });
    await until(() => writer.stats().held >= 2, 'the first batch to be in flight');
    await settle();
    expect(cache.get('Objects')).toBeUndefined();
    expect(stored).toEqual([]);
    open.open();
    await done;
    expect(stored).toEqual([1, 2, 3]);
    expect(cache.get('Objects')).toBe(3);
  });

  it('pages(): one array per read, close() once, checkpoints per acknowledged page', async () => {
    const looped = new Pages({ size: 4, last: 10 });
    const seen: number[][] = [];
    for await (const page of looped.pages()) seen.push([...page]);
    expect(seen).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]);
    expect(looped.closes).toBe(1);
    expect(() => looped.pages()).toThrow(expect.objectContaining({ code: 'SNOOPY_CLOSED' }));

    const cache = await openCache();
    const first = new Pages({ size: 4, last: 20, stopAt: 3 }, { stateStore: cache });
    const sums: number[] = [];
    const registry = new Registry();
    registry.snap(first.pages(), { sink: (n: number) => void sums.push(n) })((page: readonly number[]) => page.reduce((a, b) => a + b, 0));
    await registry.stream({ handleSignals: false, progress: false });
    expect(sums).toEqual([10, 26, 42]);
    expect(cache.get('Pages')).toBe(3);
    expect(first.closes).toBe(1);

    const second = new Pages({ size: 4, last: 20 }, { stateStore: cache });
    const rest: number[] = [];
    for await (const page of second.pages()) rest.push(...page);
    expect(rest).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
  });

  it('reports progress as events and as its last report', async () => {
    const source = new Pages({ size: 4, last: 8 });
    const seen: string[] = [];
    source.on('progress', (p) => seen.push(`${p.loaded}/${p.total} ${p.message}`));
    expect(source.lastReportedProgress).toEqual({ loaded: 0, total: undefined, message: undefined });
    await runInto(source, []);
    expect(seen).toEqual(['4/8 page 1', '8/8 page 2']);
    expect(source.lastReportedProgress.total).toBe(8);
  });

  it("reaches core's progress bar and the stream's summary through core's [progress] protocol", async () => {
    const source = new Pages({ size: 3, last: 6 });
    expect(source[progress]()).toEqual({ loaded: 0 });
    // A terminal stand-in: core draws its bars only on a TTY.
    const tty: PassThrough & { isTTY?: boolean } = new PassThrough();
    tty.isTTY = true;
    let text = '';
    tty.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    onTestFinished(() => {
      tty.destroy();
    });
    const registry = new Registry();
    registry.snap(source, { name: 'pages' })((n: number) => n);

    const summary = await registry.stream({ handleSignals: false, progress: tty, logger: pino({ level: 'silent' }) });

    expect(summary.snaps.pages).toMatchObject({ in: 6, total: 6, progress: [{ loaded: 6, total: 6, message: 'page 2' }] });
    // The last frame: the snap's 6 messages against the reported total, the source's message after.
    expect(text).toMatch(/pages \[#{40}\] 100% 6\/6 page 2\n$/);
  });
});

describe('DataSource parameters', () => {
  class Api extends DataSource<string, { url: string; token: string; limit?: number; tags?: string[]; verbose?: boolean }> {
    static override params = [
      { name: 'url', title: 'API URL', type: 'text', required: true },
      { name: 'token', type: 'secret', required: true },
      { name: 'limit', type: 'number' },
      { name: 'tags', type: 'list', values: ['a', 'b', 'c'] },
      { name: 'verbose', type: 'boolean' },
    ] as const;
    protected override read(): string[] | null {
      this.log('calling with token ' + this.params.token, { token: this.params.token, nested: { auth: `Bearer ${this.params.token}` } });
      this.progress(0, undefined, `token=${this.params.token}`);
      throw permanent(`401 for token ${this.params.token}`);
    }
  }

  it('validates and coerces parameters at construction', () => {
    const api = new Api({ url: 'http://x', token: 's3cr3t-t0ken', limit: '25', tags: 'a,b', verbose: 'true' });
    expect(api.params).toEqual({ url: 'http://x', token: 's3cr3t-t0ken', limit: 25, tags: ['a', 'b'], verbose: true });
  });

  it('fails with SNOOPY_CONNECT_PARAM naming a missing or wrong parameter, never quoting a secret', () => {
    const attempt = (params: Record<string, unknown>): unknown => {
      try {
        new Api(params);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(attempt({ token: 'x' })).toMatchObject({ code: 'SNOOPY_CONNECT_PARAM', param: 'url', message: 'Api: parameter `url` is required' });
    expect(attempt({ url: 'u', token: 't', limit: 'many' })).toMatchObject({ code: 'SNOOPY_CONNECT_PARAM', param: 'limit' });
    expect(attempt({ url: 'u', token: 't', tags: ['a', 'z'] })).toMatchObject({ param: 'tags', message: expect.stringContaining('`"z"`') });
    expect(attempt({ url: 'u', token: 't', nope: 1 })).toMatchObject({ param: 'nope', message: expect.stringContaining('is not declared') });
    const secret = attempt({ url: 'u', token: 12345678 }) as Error;
    expect(secret).toMatchObject({ code: 'SNOOPY_CONNECT_PARAM', param: 'token' });
    expect(secret.message).not.toContain('12345678');
  });

  it('keeps secrets out of logs, errors and toJSON()', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
    const token = 's3cr3t-t0ken';
    const api = new Api({ url: 'http://x', token }, { logger, attempts: 1 } satisfies DataSourceOptions);
    expect(JSON.stringify(api)).not.toContain(token);
    expect(api.toJSON()).toMatchObject({ params: { url: 'http://x', token: '[secret]' } });
    const failure = (await runInto(api, []).then(() => undefined, (e: unknown) => e)) as Error & { cause: Error & { cause: Error } };
    expect(failure.cause).toMatchObject({ code: 'SNOOPY_CONNECT_READ' });
    const errorText = [failure.message, failure.stack, failure.cause.message, failure.cause.stack, failure.cause.cause.message, failure.cause.cause.stack].join('\n');
    expect(errorText).toContain('401 for token [secret]');
    expect(errorText).not.toContain(token);
    await until(() => lines.some((l) => l.includes('calling with token')), 'the source to log');
    expect(lines.join('')).toContain('[secret]');
    expect(lines.join('')).not.toContain(token);
    expect(api.lastReportedProgress.message).toBe('token=[secret]');
  });

  it('refuses bad declarations and options', () => {
    class Bad extends DataSource {
      static override params = [{ name: 'x', type: 'date' }] as never;
      protected override read(): null {
        return null;
      }
    }
    expect(() => new Bad()).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID', message: expect.stringContaining('`type`') }));
    expect(() => new Pages({ size: 1, last: 1 }, { batchsize: 3 } as never)).toThrow(/Expected `batchsize` to be absent/);
    expect(() => new Pages({ size: 1, last: 1 }, { attempts: 0 })).toThrow('Pages: Expected `attempts` to be an integer >= 1, got `0` (number)');
  });
});
