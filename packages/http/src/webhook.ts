import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { AbortError, ClosedError, TimeoutError, deliver, rootLogger, type Completion, type DeferredSink, type Logger } from '@snoopy/core';
import { checkUrl, guardedLookup } from './address-guard.js';
import { HttpError } from './errors.js';
import { resolveWebhookOptions, type ResolvedWebhookOptions, type WebhookOptions } from './options.js';
import { sign } from './signature.js';

/** Counters of a webhook sink, as data. */
export interface WebhookStats {
  /** Values handed to the sink. */
  readonly accepted: number;
  /** Deliveries answered 2xx. */
  readonly delivered: number;
  /** HTTP attempts made, retries included. */
  readonly attempts: number;
  /** Attempts that failed and were scheduled again. */
  readonly retries: number;
  /** Deliveries failed for good (handed to the snap's error policy). */
  readonly failed: number;
  /** Responses by status (`0` for a timeout or network error). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Queued or in flight now. */
  readonly outstanding: number;
  /** True once the endpoint answered 410 Gone. */
  readonly disabled: boolean;
}

interface Pending {
  readonly id: string;
  readonly key: unknown;
  readonly body: Buffer;
  readonly completion: Completion;
  attempt: number;
}

interface AttemptResult {
  readonly status: number;
  readonly body: string;
  readonly retryAfterMs: number | undefined;
  readonly error: unknown;
}

const NO_KEY = Symbol('no key');

/**
 * The wait before attempt `attempt + 1` after `attempt` failed: full jitter,
 * `random() * min(maxMs, baseMs * 2^(attempt-1))`; a `Retry-After` asks for at least its value.
 */
export function backoffDelay(attempt: number, retry: { baseMs: number; maxMs: number }, retryAfterMs?: number, random = Math.random): number {
  const cap = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(attempt - 1, 30));
  const jitter = Math.floor(random() * cap);
  return retryAfterMs === undefined ? jitter : Math.max(jitter, retryAfterMs);
}

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function looksLikeMessage(v: unknown): v is { topic: string; partition: number; offset: number | string; key?: unknown; value: unknown } {
  const m = v as { topic?: unknown; partition?: unknown; offset?: unknown } | null;
  return m !== null && typeof m === 'object' && typeof m.topic === 'string' && typeof m.partition === 'number' &&
    (typeof m.offset === 'number' || typeof m.offset === 'string') && 'value' in m;
}

/**
 * A webhook endpoint as a snoopy sink: `snap(source, { sink: webhook(url, options) })`.
 * Each value is POSTed (signed per Standard Webhooks) and its message is acknowledged only once
 * the endpoint answered 2xx; after the retry schedule, or at once after 410 Gone, the delivery
 * fails with an `HttpError` and the snap's error policy (its dead letter) takes it.
 */
export class WebhookSink<T = unknown> implements DeferredSink<T>, AsyncDisposable {
  readonly url: URL;
  readonly options: ResolvedWebhookOptions<T>;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #logger: Logger;
  /** Keys with a delivery under way, and the deliveries of that key waiting behind it. */
  readonly #keys = new Map<unknown, Pending[]>();
  #ready: Pending[] = [];
  #active = 0;
  #outstanding = 0;
  readonly #timers = new Map<NodeJS.Timeout, Pending>();
  readonly #inflight = new Set<http.ClientRequest>();
  #gone: HttpError | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #drained: Array<() => void> = [];
  #idle: Array<() => void> = [];
  readonly #stats = { accepted: 0, delivered: 0, attempts: 0, retries: 0, failed: 0, byStatus: {} as Record<string, number> };

  constructor(url: string | URL, options?: WebhookOptions<T>) {
    this.options = resolveWebhookOptions(options);
    this.url = checkUrl(url, this.options.allowPrivate);
    const https_ = this.url.protocol === 'https:';
    const agentOptions: http.AgentOptions = { keepAlive: true, maxSockets: this.options.concurrency, scheduling: 'lifo' };
    if (!this.options.allowPrivate) (agentOptions as { lookup?: unknown }).lookup = guardedLookup;
    this.#agent = https_ ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#request = https_ ? https.request : http.request;
    this.#logger = rootLogger().child({ component: 'webhook', url: this.url.origin + this.url.pathname });
  }

  get stats(): WebhookStats {
    return { ...this.#stats, byStatus: { ...this.#stats.byStatus }, outstanding: this.#outstanding, disabled: this.#gone !== undefined };
  }

  /** Core's deferred-sink entry point; see `send` for a promise per value. */
  [deliver](value: T, completion: Completion): void | Promise<void> {
    if (this.#closed) throw new ClosedError('Webhook sink');
    this.#stats.accepted++;
    if (this.#gone) {
      this.#stats.failed++;
      completion.fail(this.#gone);
      return;
    }
    const o = this.options;
    let id: string;
    let key: unknown;
    let payload: unknown = value;
    if (looksLikeMessage(value)) {
      id = o.id ? o.id(value) : `${value.topic}:${value.partition}:${value.offset}`;
      key = o.key ? o.key(value) : value.key ?? NO_KEY;
      payload = value.value;
    } else {
      id = o.id ? o.id(value) : `msg_${randomUUID()}`;
      key = o.key ? o.key(value) : NO_KEY;
    }
    const body = o.codec.encode(payload as T);
    const p: Pending = { id, key: key === undefined || key === null ? NO_KEY : key, body, completion, attempt: 0 };
    this.#outstanding++;
    if (p.key !== NO_KEY) {
      const waiting = this.#keys.get(p.key);
      if (waiting) waiting.push(p);
      else {
        this.#keys.set(p.key, []);
        this.#ready.push(p);
      }
    } else this.#ready.push(p);
    this.#pump();
    if (this.#outstanding >= o.highWaterMark) return new Promise((resolve) => this.#drained.push(resolve));
  }

  /**
   * Delivers one value outside a stream; resolves once it was answered 2xx, rejects like a dead
   * letter. Aborting `signal` stops the wait (`SNOOPY_ABORTED`); the delivery itself goes on.
   */
  send(value: T, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new AbortError('Webhook send', signal.reason));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(new AbortError('Webhook send', signal!.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      const r = this[deliver](value, {
        done: () => (settle(), resolve()),
        fail: (error) => (settle(), reject(error)),
      });
      if (r) r.catch(reject);
    });
  }

  #pump(): void {
    while (this.#active < this.options.concurrency && this.#ready.length > 0) {
      const p = this.#ready.shift()!;
      this.#active++;
      void this.#attempt(p);
    }
  }

  async #attempt(p: Pending): Promise<void> {
    p.attempt++;
    this.#stats.attempts++;
    const result = await this.#post(p);
    this.#active--;
    const status = result.status;
    this.#stats.byStatus[status] = (this.#stats.byStatus[status] ?? 0) + 1;
    if (status >= 200 && status < 300) {
      this.#stats.delivered++;
      this.#finish(p, undefined);
    } else if (status === 410) {
      this.#gone ??= new HttpError('SNOOPY_HTTP_GONE', `Webhook endpoint ${this.url.href} answered 410 Gone; it is disabled`, {
        url: this.url.href, status, body: result.body, attempts: p.attempt, webhookId: p.id,
      });
      this.#logger.warn({ code: 'SNOOPY_HTTP_GONE', webhookId: p.id }, 'endpoint answered 410 Gone; failing its remaining deliveries');
      this.#finish(p, this.#gone);
      this.#failAll(this.#gone);
    } else if (result.error instanceof HttpError && result.error.code === 'SNOOPY_HTTP_ADDRESS_REFUSED') {
      this.#finish(p, result.error);
    } else if (this.#gone) {
      this.#finish(p, this.#gone);
    } else if (p.attempt < this.options.retry.attempts && !this.#closed) {
      this.#stats.retries++;
      const delay = backoffDelay(p.attempt, this.options.retry, status === 429 || status === 503 ? result.retryAfterMs : undefined);
      this.#logger.debug({ webhookId: p.id, status, attempt: p.attempt, delay, err: result.error }, 'delivery failed; retrying');
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#ready.unshift(p);
        this.#pump();
      }, delay);
      this.#timers.set(timer, p);
    } else {
      const why = status === 0 ? (result.error instanceof Error ? result.error.message : String(result.error)) : `HTTP ${status}`;
      this.#finish(p, new HttpError('SNOOPY_HTTP_DELIVERY', `Webhook ${p.id} to ${this.url.href} failed after ${p.attempt} attempts: ${why}`, {
        url: this.url.href, status: status || undefined, body: result.body || undefined, attempts: p.attempt, webhookId: p.id, cause: result.error,
      }));
    }
    this.#pump();
  }

  #post(p: Pending): Promise<AttemptResult> {
    const o = this.options;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string | number> = {
      ...o.headers,
      'content-type': o.contentType,
      'content-length': p.body.length,
      'webhook-id': p.id,
      'webhook-timestamp': timestamp,
    };
    if (o.secrets.length) headers['webhook-signature'] = sign(o.secrets, p.id, timestamp, p.body);
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const settle = (r: AttemptResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#inflight.delete(req);
        resolve(r);
      };
      const req = this.#request(this.url, { method: o.method, headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < 512) {
            chunks.push(c);
            kept += c.length;
          }
        });
        res.on('end', () =>
          settle({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8').slice(0, 512),
            retryAfterMs: parseRetryAfter(res.headers['retry-after']),
            error: undefined,
          }),
        );
        res.on('error', (error) => settle({ status: 0, body: '', retryAfterMs: undefined, error }));
      });
      const timer = setTimeout(() => {
        const error = new TimeoutError(`Webhook ${p.id} attempt ${p.attempt}`, o.timeoutMs);
        settle({ status: 0, body: '', retryAfterMs: undefined, error });
        req.destroy(error);
      }, o.timeoutMs);
      req.on('error', (error) => settle({ status: 0, body: '', retryAfterMs: undefined, error }));
      this.#inflight.add(req);
      req.end(p.body);
    });
  }

  #finish(p: Pending, error: Error | undefined): void {
    this.#outstanding--;
    if (error) {
      this.#stats.failed++;
      p.completion.fail(error);
    } else p.completion.done();
    if (p.key !== NO_KEY) {
      const waiting = this.#keys.get(p.key);
      const next = waiting?.shift();
      if (next) this.#ready.push(next);
      else this.#keys.delete(p.key);
    }
    if (this.#outstanding < this.options.highWaterMark && this.#drained.length) {
      const waiters = this.#drained;
      this.#drained = [];
      for (const w of waiters) w();
    }
    if (this.#outstanding === 0 && this.#idle.length) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const w of waiters) w();
    }
  }

  /** Fails every delivery not currently on the wire (queued, or waiting for a retry). */
  #failAll(error: HttpError): void {
    for (const [timer, p] of this.#timers) {
      clearTimeout(timer);
      this.#timers.delete(timer);
      this.#finish(p, error);
    }
    while (this.#ready.length) this.#finish(this.#ready.shift()!, error);
  }

  /**
   * Stops accepting values, waits up to `closeTimeoutMs` for outstanding deliveries (retries
   * included), fails what is left with `SNOOPY_CLOSED`, and closes the connections. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      if (this.#outstanding > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => this.#idle.push(resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.closeTimeoutMs))),
        ]);
        clearTimeout(timer);
      }
      const closed = new ClosedError('Webhook sink');
      for (const [timer, p] of this.#timers) {
        clearTimeout(timer);
        this.#timers.delete(timer);
        this.#outstanding--;
        p.completion.fail(closed);
      }
      while (this.#ready.length) this.#finish(this.#ready.shift()!, closed);
      for (const req of this.#inflight) req.destroy(closed);
      this.#agent.destroy();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** `new WebhookSink(url, options)`: a webhook endpoint as a deferred sink. */
export function webhook<T = unknown>(url: string | URL, options?: WebhookOptions<T>): WebhookSink<T> {
  return new WebhookSink<T>(url, options);
}
