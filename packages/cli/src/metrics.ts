import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClosedError, OptionsError, describeValue, rootLogger, type Logger } from '@snoopy/core';
import { connectAdmin, type Admin } from './internal/admin.js';
import { groupLag, type PartitionLag } from './internal/lag.js';
import { resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from './options.js';

/** What `metrics.topic()` reads: a `@snoopy/kafka` Topic (its name and `stats`). */
export interface WatchedTopic {
  readonly name: string;
  readonly stats: {
    readonly produced: number;
    readonly delivered: number;
    readonly deliveryErrors: number;
    readonly fetched: number;
    readonly acked: number;
    readonly commits: number;
    readonly commitErrors: number;
    readonly lastCommitMs: number;
    readonly decodeErrors?: number;
    readonly deadLettered?: number;
  };
}

/** What `metrics.cache()` reads: a `@snoopy/cache` Cache (`stats()`). */
export interface WatchedCache {
  readonly path: string;
  stats(): { readonly writes: number; readonly batches: number; readonly pending: number; readonly expired: number; readonly failures: number };
}

/** The result of a health check: ok, or the reasons it is not. */
export interface Health {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

interface SnapSeries {
  in: number;
  out: number;
  readonly errors: Map<string, number>;
  readonly buckets: number[];
  sum: number;
  count: number;
}

interface TopicWatch {
  readonly topic: WatchedTopic;
  readonly group: string | undefined;
  lastAcked: number;
  lastProgressAt: number;
}

type AnyHandler = (this: unknown, ...args: unknown[]) => unknown;

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(pairs: Record<string, string | number>): string {
  return `{${Object.entries(pairs).map(([k, v]) => `${k}="${label(String(v))}"`).join(',')}}`;
}

function isIterator(value: unknown): value is Iterator<unknown> & Iterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as Iterator<unknown>).next === 'function' && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> & AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as AsyncIterator<unknown>).next === 'function' && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * Prometheus metrics and a health check for a worker: `metrics(options)` makes the handle,
 * `snap(name, handler)` counts a handler's messages in, out, errors by code and its latency,
 * `topic(topic, { group })` and `cache(cache)` read their counters (and the group's lag per
 * partition) at each scrape, `listen()` serves `/metrics` and `/healthz`.
 */
export class Metrics {
  readonly options: ResolvedMetricsOptions;
  readonly #snaps = new Map<string, SnapSeries>();
  readonly #topics: TopicWatch[] = [];
  readonly #caches = new Map<string, WatchedCache>();
  readonly #log: Logger;
  #server: Server | undefined;
  #admin: Promise<Admin> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options?: MetricsOptions) {
    this.options = resolveMetricsOptions(options);
    this.#log = rootLogger().child({ component: 'metrics' });
  }

  #open(what: string): void {
    if (this.#closing) throw new ClosedError(`metrics (${what})`);
  }

  #series(name: string): SnapSeries {
    let s = this.#snaps.get(name);
    if (!s) {
      s = { in: 0, out: 0, errors: new Map(), buckets: new Array<number>(this.options.buckets.length).fill(0), sum: 0, count: 0 };
      this.#snaps.set(name, s);
    }
    return s;
  }

  /**
   * Wraps a handler so each call counts as a message in, each value it sends (a result other than
   * `undefined`, or each value a generator yields) as a message out, each throw as an error by
   * its `code`, and its duration in the latency histogram. Keeps the handler's `length`, so a
   * handler that takes a context still gets one: `snap(src, opts)(metrics.snap('orders', fn))`.
   */
  snap<F extends (...args: never[]) => unknown>(name: string, handler: F): F {
    this.#open('snap');
    if (typeof name !== 'string' || name === '') throw new OptionsError(`metrics.snap: Expected \`name\` to be a non-empty string, got ${describeValue(name)}`);
    if (typeof handler !== 'function') throw new OptionsError(`metrics.snap: Expected \`handler\` to be a function, got ${describeValue(handler)}`);
    const s = this.#series(name);
    const buckets = this.options.buckets;
    const observe = (started: number): void => {
      const seconds = (performance.now() - started) / 1000;
      s.sum += seconds;
      s.count += 1;
      for (let i = 0; i < buckets.length; i++) if (seconds <= buckets[i]!) s.buckets[i]! += 1;
    };
    const failed = (err: unknown): never => {
      const code = (err as { code?: unknown } | null)?.code;
      const key = typeof code === 'string' ? code : 'UNCODED';
      s.errors.set(key, (s.errors.get(key) ?? 0) + 1);
      throw err;
    };
    const sent = (value: unknown): unknown => {
      if (value !== undefined) s.out += 1;
      return value;
    };
    function* countSync(it: Iterator<unknown> & Iterable<unknown>, started: number): Generator<unknown> {
      try {
        for (const v of it) yield sent(v);
      } catch (err) {
        failed(err);
      } finally {
        observe(started);
      }
    }
    async function* countAsync(it: AsyncIterable<unknown>, started: number): AsyncGenerator<unknown> {
      try {
        for await (const v of it) yield sent(v);
      } catch (err) {
        failed(err);
      } finally {
        observe(started);
      }
    }
    const call = function (this: unknown, args: unknown[]): unknown {
      s.in += 1;
      const started = performance.now();
      let result: unknown;
      try {
        result = (handler as unknown as AnyHandler).apply(this, args);
      } catch (err) {
        observe(started);
        return failed(err);
      }
      if (isAsyncIterator(result)) return countAsync(result, started);
      if (isIterator(result) && !Array.isArray(result) && typeof result !== 'string') return countSync(result, started);
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => { observe(started); return sent(value); },
          (err: unknown) => { observe(started); return failed(err); },
        );
      }
      observe(started);
      return sent(result);
    };
    // The same arity as the handler: core passes a context only to handlers declaring two parameters.
    const wrapped =
      handler.length >= 2
        ? function (this: unknown, message: unknown, context: unknown) { return call.call(this, [message, context]); }
        : function (this: unknown, message: unknown) { return call.call(this, [message]); };
    Object.defineProperty(wrapped, 'name', { value: handler.name || name });
    return wrapped as unknown as F;
  }

  /** Reads `topic.stats` at each scrape; with `group`, also the group's lag per partition (needs brokers). */
  topic(topic: WatchedTopic, options: { readonly group?: string } = {}): this {
    this.#open('topic');
    if (topic === null || typeof topic !== 'object' && typeof topic !== 'function' || typeof topic.stats !== 'object') {
      throw new OptionsError(`metrics.topic: Expected a Topic (with name and stats), got ${describeValue(topic)}`);
    }
    const group = options.group;
    if (group !== undefined && (typeof group !== 'string' || group === '')) throw new OptionsError(`metrics.topic: Expected \`group\` to be a non-empty string, got ${describeValue(group)}`);
    if (group !== undefined && this.options.brokers === undefined) {
      throw new OptionsError('metrics.topic: consumer lag needs brokers: pass `brokers` to metrics() or set KAFKA_BOOTSTRAP_SERVERS');
    }
    this.#topics.push({ topic, group, lastAcked: topic.stats.acked, lastProgressAt: Date.now() });
    return this;
  }

  /** Reads `cache.stats()` at each scrape. */
  cache(cache: WatchedCache, name = cache.path): this {
    this.#open('cache');
    if (cache === null || typeof cache !== 'object' || typeof cache.stats !== 'function') throw new OptionsError(`metrics.cache: Expected a Cache, got ${describeValue(cache)}`);
    this.#caches.set(name, cache);
    return this;
  }

  async #lag(watch: TopicWatch): Promise<PartitionLag[] | undefined> {
    if (watch.group === undefined) return undefined;
    const brokers = this.options.brokers!;
    const timeout = this.options.lagTimeoutMs;
    try {
      this.#admin ??= connectAdmin(brokers, timeout);
      const admin = await this.#admin;
      return await groupLag(admin, brokers, watch.group, [watch.topic.name], timeout);
    } catch (err) {
      this.#admin?.then((a) => a.disconnect()).catch(() => {});
      this.#admin = undefined;
      this.#log.warn({ code: (err as { code?: string }).code, topic: watch.topic.name, group: watch.group }, 'consumer lag unavailable');
      this.#log.debug({ err }, 'consumer lag unavailable');
      return undefined;
    }
  }

  /** The Prometheus text exposition (version 0.0.4) of everything watched. */
  async text(): Promise<string> {
    this.#open('text');
    const out: string[] = [];
    const family = (name: string, type: string, help: string): void => void out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    family('snoopy_messages_in_total', 'counter', 'Messages a snap handler was called with.');
    for (const [snap, s] of this.#snaps) out.push(`snoopy_messages_in_total${labels({ snap })} ${s.in}`);
    family('snoopy_messages_out_total', 'counter', 'Values a snap handler sent to its sinks.');
    for (const [snap, s] of this.#snaps) out.push(`snoopy_messages_out_total${labels({ snap })} ${s.out}`);
    family('snoopy_errors_total', 'counter', 'Handler calls that threw, by error code.');
    for (const [snap, s] of this.#snaps) for (const [code, n] of s.errors) out.push(`snoopy_errors_total${labels({ snap, code })} ${n}`);
    family('snoopy_handler_duration_seconds', 'histogram', 'Time a snap handler took per call.');
    for (const [snap, s] of this.#snaps) {
      this.options.buckets.forEach((le, i) => out.push(`snoopy_handler_duration_seconds_bucket${labels({ snap, le })} ${s.buckets[i]}`));
      out.push(`snoopy_handler_duration_seconds_bucket${labels({ snap, le: '+Inf' })} ${s.count}`);
      out.push(`snoopy_handler_duration_seconds_sum${labels({ snap })} ${s.sum}`);
      out.push(`snoopy_handler_duration_seconds_count${labels({ snap })} ${s.count}`);
    }

    const topicFamilies: [string, string, string, (t: WatchedTopic['stats']) => number][] = [
      ['snoopy_kafka_produced_total', 'counter', 'Messages handed to the Kafka producer.', (t) => t.produced],
      ['snoopy_kafka_delivered_total', 'counter', 'Messages with a successful delivery report.', (t) => t.delivered],
      ['snoopy_kafka_delivery_errors_total', 'counter', 'Messages with a failed delivery report.', (t) => t.deliveryErrors],
      ['snoopy_kafka_producer_queue', 'gauge', 'Messages produced and not yet reported delivered or failed.', (t) => Math.max(0, t.produced - t.delivered - t.deliveryErrors)],
      ['snoopy_kafka_fetched_total', 'counter', 'Messages fetched by the consumer.', (t) => t.fetched],
      ['snoopy_kafka_acked_total', 'counter', 'Consumed messages acknowledged (fully processed).', (t) => t.acked],
      ['snoopy_kafka_commits_total', 'counter', 'Offset commits.', (t) => t.commits],
      ['snoopy_kafka_commit_errors_total', 'counter', 'Offset commits that failed.', (t) => t.commitErrors],
      ['snoopy_kafka_commit_duration_seconds', 'gauge', 'Duration of the last offset commit.', (t) => t.lastCommitMs / 1000],
    ];
    // One series per topic name: two Topic objects on one topic (a producer, a consumer) add up.
    const names = [...new Set(this.#topics.map((w) => w.topic.name))];
    for (const [name, type, help, read] of topicFamilies) {
      family(name, type, help);
      for (const topic of names) {
        const values = this.#topics.filter((w) => w.topic.name === topic).map((w) => read(w.topic.stats));
        const value = name === 'snoopy_kafka_commit_duration_seconds' ? Math.max(...values) : values.reduce((a, b) => a + b, 0);
        out.push(`${name}${labels({ topic })} ${value}`);
      }
    }
    family('snoopy_consumer_lag', 'gauge', 'Messages in a partition after the consumer group\'s committed offset.');
    const lagged = new Set<string>();
    for (const w of this.#topics) {
      if (w.group === undefined || lagged.has(`${w.topic.name}\0${w.group}`)) continue;
      lagged.add(`${w.topic.name}\0${w.group}`);
      for (const row of (await this.#lag(w)) ?? []) {
        out.push(`snoopy_consumer_lag${labels({ topic: row.topic, group: w.group!, partition: row.partition })} ${row.lag}`);
      }
    }

    family('snoopy_cache_pending', 'gauge', 'Cache writes queued or in flight.');
    for (const [cache, c] of this.#caches) out.push(`snoopy_cache_pending${labels({ cache })} ${c.stats().pending}`);
    family('snoopy_cache_writes_total', 'counter', 'Operations written to LevelDB.');
    for (const [cache, c] of this.#caches) out.push(`snoopy_cache_writes_total${labels({ cache })} ${c.stats().writes}`);
    family('snoopy_cache_failures_total', 'counter', 'Cache batches or range deletes that failed.');
    for (const [cache, c] of this.#caches) out.push(`snoopy_cache_failures_total${labels({ cache })} ${c.stats().failures}`);
    return `${out.join('\n')}\n`;
  }

  /**
   * Healthy unless a watched consumer group has lag while its topic acknowledged nothing for
   * `stallMs` (progress is observed at each check: the acknowledged count moved since the last one).
   */
  async health(): Promise<Health> {
    this.#open('health');
    const problems: string[] = [];
    const now = Date.now();
    for (const w of this.#topics) {
      const acked = w.topic.stats.acked;
      if (acked !== w.lastAcked) {
        w.lastAcked = acked;
        w.lastProgressAt = now;
        continue;
      }
      if (w.group === undefined || now - w.lastProgressAt < this.options.stallMs) continue;
      const rows = await this.#lag(w);
      const lag = rows?.reduce((n, r) => n + r.lag, 0) ?? 0;
      if (lag > 0) problems.push(`${w.topic.name} (group ${w.group}): lag ${lag} and nothing acknowledged for ${now - w.lastProgressAt} ms`);
    }
    return { ok: problems.length === 0, problems };
  }

  /** Serves `GET /metrics` and `GET /healthz` (200 `ok`, or 503 with the problems); resolves with the base URL. */
  async listen(): Promise<string> {
    this.#open('listen');
    if (this.#server) return this.#url();
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (req.method !== 'GET') return reply(405, 'method not allowed\n');
      if (path === '/metrics') {
        this.text().then((text) => reply(200, text, 'text/plain; version=0.0.4; charset=utf-8'), (err: unknown) => reply(500, `${(err as Error).message}\n`));
      } else if (path === '/healthz') {
        this.health().then((h) => reply(h.ok ? 200 : 503, h.ok ? 'ok\n' : `${h.problems.join('\n')}\n`), (err: unknown) => reply(500, `${(err as Error).message}\n`));
      } else {
        reply(404, 'not found: try /metrics or /healthz\n');
      }
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#log.info({ url: this.#url() }, 'serving /metrics and /healthz');
    return this.#url();
  }

  #url(): string {
    const address = this.#server!.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Stops the server and the admin client; idempotent. Watched topics and caches stay open: the caller owns them. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const server = this.#server;
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      const admin = this.#admin;
      this.#admin = undefined;
      if (admin) await admin.then((a) => a.disconnect()).catch(() => {});
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** `metrics(options)`: a new `Metrics` handle (call `listen()` to serve it). */
export function metrics(options?: MetricsOptions): Metrics {
  return new Metrics(options);
}
