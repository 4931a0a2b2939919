import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DataSource, loadDataSource, paramFlags, paramsFromFlags, paramsUsage, runDataSource, type ParamSpec } from '../src/index.js';
import { tempDir } from './helpers.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

class Letters extends DataSource<{ letter: string }, { count: number }> {
  static override params = [{ name: 'count', type: 'number', required: true }] as const;
  private n = 0;
  protected override read(): { letter: string }[] | null {
    if (this.n >= this.params.count) return null;
    const page = Array.from({ length: Math.min(3, this.params.count - this.n) }, (_, i) => ({ letter: String.fromCharCode(97 + this.n + i) }));
    this.n += page.length;
    this.progress(this.n, this.params.count, `at ${this.n}`);
    return page;
  }
}

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString()));
  return () => text;
}

describe('runDataSource', () => {
  it('writes NDJSON to stdout and draws progress on a terminal', async () => {
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    const out = collect(stdout);
    const err = collect(stderr);
    const { summary, progress } = await runDataSource(Letters, { params: { count: 5 }, stdout, stderr });
    expect(summary.in).toBe(5);
    expect(out().trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(['a', 'b', 'c', 'd', 'e'].map((letter) => ({ letter })));
    expect(progress).toEqual({ loaded: 5, total: 5, message: 'at 5' });
    expect(err()).toMatch(/Letters \[#+\] 100% 5\/5 at 5/);
  });

  it('writes to a file with --to, and no progress off a terminal', async () => {
    const file = join(tempDir(), 'out.ndjson');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = collect(stdout);
    const err = collect(stderr);
    await runDataSource(Letters, { params: { count: 4 }, to: file, stdout, stderr });
    expect(readFileSync(file, 'utf8')).toBe('{"letter":"a"}\n{"letter":"b"}\n{"letter":"c"}\n{"letter":"d"}\n');
    expect(out()).toBe('');
    expect(err()).toBe('');
  });

  it('fails with SNOOPY_CONNECT_PARAM before reading when a parameter is missing', async () => {
    await expect(runDataSource(Letters, { params: {}, stdout: new PassThrough() })).rejects.toMatchObject({ code: 'SNOOPY_CONNECT_PARAM', param: 'count' });
    await expect(runDataSource(Letters, { params: { count: 1 }, to: 'topic:', stdout: new PassThrough() })).rejects.toMatchObject({ code: 'SNOOPY_OPTIONS_INVALID' });
  });

  it('closes the source once when the output cannot be opened', async () => {
    let closes = 0;
    class Counted extends Letters {
      protected override close(): void {
        closes++;
      }
    }
    const to = join(tempDir(), 'no-such-dir', 'out.ndjson');
    await expect(runDataSource(Counted, { params: { count: 1 }, to, stdout: new PassThrough() })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(closes).toBe(1);
  });
});

describe('loadDataSource', () => {
  it('returns the default export that extends DataSource', async () => {
    const Source = await loadDataSource(join(fixtures, 'pages-source.mjs'));
    expect(Source.name).toBe('Pages');
    expect(Source.params.map((p) => p.name)).toEqual(['count', 'apiKey', 'tags', 'upper', 'failAt', 'slowMs']);
  });

  it('fails with SNOOPY_CONNECT_MODULE for a missing module or one without a DataSource', async () => {
    await expect(loadDataSource(join(fixtures, 'nope.mjs'))).rejects.toMatchObject({ code: 'SNOOPY_CONNECT_MODULE', message: expect.stringContaining('cannot be loaded') });
    await expect(loadDataSource(join(fixtures, 'not-a-source.mjs'))).rejects.toMatchObject({ code: 'SNOOPY_CONNECT_MODULE', message: expect.stringContaining('exports no DataSource class') });
  });
});

describe('parameter flags', () => {
  const specs: ParamSpec[] = [
    { name: 'apiKey', title: 'API key', type: 'secret', required: true },
    { name: 'tags', type: 'list', values: ['x', 'y'] },
    { name: 'dryRun', type: 'boolean', help: 'read, do not write' },
  ];
  it('maps parameters to kebab-case flags and back', () => {
    expect(paramFlags(specs)).toEqual({ 'api-key': { type: 'string' }, tags: { type: 'string', multiple: true }, 'dry-run': { type: 'boolean' } });
    expect(paramsFromFlags(specs, { 'api-key': 's', tags: ['x', 'y,x'], 'dry-run': true })).toEqual({ apiKey: 's', tags: ['x', 'y', 'x'], dryRun: true });
  });
  it('lists them for --help', () => {
    expect(paramsUsage(specs).split('\n')).toEqual([
      '  --api-key <secret>  API key (required, secret)',
      '  --tags <list>       tags (one of x, y, repeatable or comma-separated)',
      '  --dry-run           dryRun: read, do not write',
    ]);
  });
});
