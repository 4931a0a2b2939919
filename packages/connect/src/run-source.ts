import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Registry, type Logger, type Sink, type StreamSummary } from '@snoopy/core';
import { DataSource, type DataSourceClass, type SourceProgress } from './data-source.js';
import { ProgressLine } from './internal/progress-line.js';
import { SourceModuleError } from './errors.js';
import { fail } from './options.js';
import { checkParamSpecs, flagName, type ParamSpec } from './params.js';

function isSourceClass(value: unknown): value is DataSourceClass {
  if (typeof value !== 'function') return false;
  if (value.prototype instanceof DataSource) return true;
  // The module may have loaded another copy of @snoopy/connect: recognise the shape.
  const v = value as { params?: unknown; prototype?: { read?: unknown; [Symbol.asyncIterator]?: unknown } };
  return Array.isArray(v.params) && typeof v.prototype?.[Symbol.asyncIterator] === 'function';
}

/** Imports a module and returns its DataSource class: the default export, or the only exported one. */
export async function loadDataSource(path: string): Promise<DataSourceClass> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolvePath(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new SourceModuleError(path, `cannot be loaded: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (isSourceClass(mod.default)) return mod.default;
  const found = Object.values(mod).filter(isSourceClass);
  if (found.length === 1) return found[0]!;
  throw new SourceModuleError(
    path,
    found.length === 0 ? 'exports no DataSource class (export default class extends DataSource)' : `exports ${found.length} DataSource classes; export the one to run as default`,
  );
}

/** `node:util` parseArgs options for a source's parameters (`apiKey` -> `--api-key`). */
export function paramFlags(specs: readonly ParamSpec[]): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> {
  const flags: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const spec of checkParamSpecs('params', specs)) {
    flags[flagName(spec.name)] = spec.type === 'boolean' ? { type: 'boolean' } : spec.type === 'list' ? { type: 'string', multiple: true } : { type: 'string' };
  }
  return flags;
}

/** Maps parsed flag values back to parameter names (lists given as repeated or comma-separated flags). */
export function paramsFromFlags(specs: readonly ParamSpec[], values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const spec of specs) {
    const value = values[flagName(spec.name)];
    if (value === undefined) continue;
    params[spec.name] = spec.type === 'list' && Array.isArray(value) ? value.flatMap((v: string) => v.split(',').map((s) => s.trim()).filter((s) => s !== '')) : value;
  }
  return params;
}

/** The `--help` lines for a source's parameters. */
export function paramsUsage(specs: readonly ParamSpec[]): string {
  if (specs.length === 0) return '  (this source declares no parameters)';
  const rows = specs.map((s) => {
    const value = s.type === 'boolean' ? '' : ` <${s.placeholder ?? s.type}>`;
    return [`--${flagName(s.name)}${value}`, s] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows
    .map(([flag, s]) => {
      const notes = [s.required === true ? 'required' : undefined, s.type === 'secret' ? 'secret' : undefined, s.values ? `one of ${s.values.join(', ')}` : undefined, s.type === 'list' ? 'repeatable or comma-separated' : undefined]
        .filter((n) => n !== undefined)
        .join(', ');
      const text = [s.title ?? s.name, s.help].filter(Boolean).join(': ');
      return `  ${flag.padEnd(width)}  ${text}${notes ? ` (${notes})` : ''}`;
    })
    .join('\n');
}

export interface RunDataSourceOptions {
  /** Validated against the class's `params`. @default {} */
  readonly params?: Record<string, unknown>;
  /**
   * Where items go: `undefined` for NDJSON on `stdout`, a file path for NDJSON in that file,
   * `topic:NAME` for a Kafka topic (`KAFKA_BOOTSTRAP_SERVERS`).
   * @default undefined
   */
  readonly to?: string;
  readonly stdout?: NodeJS.WritableStream;
  /** Where the progress bar goes when it is a TTY. @default process.stderr */
  readonly stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Stops the run gracefully: in-flight items finish, outputs flush, the source closes. */
  readonly signal?: AbortSignal;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

/** What `snoopy run` did: the stream's summary and the source's last progress. */
export interface RunDataSourceResult {
  readonly summary: StreamSummary;
  readonly progress: SourceProgress;
}

function writeLine(out: NodeJS.WritableStream): Sink {
  return (value: unknown) => {
    if (!out.write(`${JSON.stringify(value)}\n`)) return once(out, 'drain').then(() => undefined);
    return undefined;
  };
}

/** Runs a data source once into NDJSON (stdout or a file) or a Kafka topic; the function behind `snoopy run`. */
export async function runDataSource(Source: DataSourceClass, options: RunDataSourceOptions = {}): Promise<RunDataSourceResult> {
  if (!isSourceClass(Source)) fail('runDataSource', 'Source', 'a DataSource class', Source);
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const to = options.to;
  if (to !== undefined && (typeof to !== 'string' || to === '' || to === 'topic:')) fail('runDataSource', 'to', "'-', a file path or topic:NAME", to);
  // Parameters are checked here, before any output is opened.
  const source = new Source(options.params ?? {}, options.logger === undefined ? {} : { logger: options.logger });
  const closers: (() => Promise<unknown>)[] = [];
  let bar: ProgressLine | undefined;
  try {
    let sink: Sink;
    if (to === undefined || to === '-') sink = writeLine(stdout);
    else if (to.startsWith('topic:')) {
      const { Topic } = await import('@snoopy/kafka');
      const servers = env.KAFKA_BOOTSTRAP_SERVERS;
      const topic = Topic(to.slice('topic:'.length), servers ? { 'bootstrap.servers': servers } : undefined);
      closers.push(() => topic.close());
      sink = topic as unknown as Sink;
    } else {
      const file = createWriteStream(to, { flags: 'w' });
      closers.push(async () => {
        if (file.closed) return;
        file.end();
        await once(file, 'close');
      });
      await once(file, 'open');
      sink = writeLine(file);
    }
    bar = stderr.isTTY === true ? new ProgressLine(stderr, Source.name, source) : undefined;
    const registry = new Registry();
    registry.snap(source, { sink, name: Source.name })((item: unknown) => item);
    const summary = await registry.stream({
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      handleSignals: options.signal === undefined,
      progress: false,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    return { summary, progress: source.lastReportedProgress };
  } finally {
    bar?.stop();
    // close() runs exactly once, also when the output could not be opened and nothing was read.
    await source[Symbol.asyncDispose]();
    for (const close of closers) await close();
  }
}
