import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClosedError, ack, describe, rootLogger, type Acknowledging, type Describing, type Logger, type MessageMeta } from '@snoopy/core';
import { HttpError } from './errors.js';
import { resolveWebhookSourceOptions, type ResolvedWebhookSourceOptions, type WebhookSourceOptions } from './options.js';
import { verify } from './signature.js';

/** One verified webhook, as a snap receives it. */
export interface WebhookEvent<T = unknown> {
  /** `webhook-id`: the sender's idempotency key. */
  readonly id: string;
  /** `webhook-timestamp` of the attempt that was accepted, seconds since the epoch. */
  readonly timestamp: number;
  /** The body, decoded by the codec after its signature was verified. */
  readonly value: T;
  /** The request headers (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Counters of a webhook source, as data. */
export interface WebhookSourceStats {
  /** Requests received on any path. */
  readonly requests: number;
  /** Verified requests yielded to the stream. */
  readonly accepted: number;
  /** Requests answered 2xx at once because their id was already processed (or joined one in flight). */
  readonly duplicates: number;
  /** Messages acknowledged (answered 2xx). */
  readonly acknowledged: number;
  /** Responses by status. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Messages waiting for the stream or in it now. */
  readonly pending: number;
}

interface Entry<T> {
  readonly event: WebhookEvent<T>;
  /** Requests waiting for this message's acknowledgement (a retry can join the first). */
  responses: Array<{ res: http.ServerResponse; timer: NodeJS.Timeout }>;
  yielded: boolean;
}

/**
 * An HTTP server whose verified Standard Webhooks requests are an async iterable, for
 * `snap(webhookSource(...))`. The response is the acknowledgement: 2xx once the snap finished
 * with the message, 503 with `Retry-After` when that takes longer than `ackTimeoutMs` or the
 * source closes first, so that the sender retries; ids already processed are answered 2xx at once.
 */
export class WebhookSource<T = unknown> implements AsyncIterable<WebhookEvent<T>>, Acknowledging<WebhookEvent<T>>, Describing<WebhookEvent<T>>, AsyncDisposable {
  readonly options: ResolvedWebhookSourceOptions<T>;
  readonly #server: http.Server;
  readonly #logger: Logger;
  readonly #listening: Promise<AddressInfo>;
  readonly #queue: Entry<T>[] = [];
  readonly #pending = new Map<string, Entry<T>>();
  readonly #seen = new Map<string, number>();
  #next: ((r: IteratorResult<WebhookEvent<T>>) => void) | undefined;
  #iterating = false;
  #ended = false;
  #closing: Promise<void> | undefined;
  #answered: Array<() => void> = [];
  #unanswered = 0;
  readonly #stats = { requests: 0, accepted: 0, duplicates: 0, acknowledged: 0, byStatus: {} as Record<string, number> };

  constructor(options: WebhookSourceOptions<T>) {
    this.options = resolveWebhookSourceOptions(options);
    this.#logger = rootLogger().child({ component: 'webhook-source' });
    this.#server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => this.#handle(req, res));
    this.#listening = this.#start();
    this.#listening.catch(() => {});
  }

  async #start(): Promise<AddressInfo> {
    await (this.options.dedupe as unknown as { open?: () => Promise<unknown> } | undefined)?.open?.();
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.options.port, this.options.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    return this.#server.address() as AddressInfo;
  }

  /** Resolves once the server listens, with its address and the URL to send webhooks to. */
  async listen(): Promise<{ host: string; port: number; url: string }> {
    const a = await this.#listening;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, url: `http://${host}:${a.port}${this.options.path}` };
  }

  get stats(): WebhookSourceStats {
    return { ...this.#stats, byStatus: { ...this.#stats.byStatus }, pending: this.#pending.size };
  }

  #respond(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    this.#stats.byStatus[status] = (this.#stats.byStatus[status] ?? 0) + 1;
    if (res.headersSent || res.destroyed) return;
    const body = text ? JSON.stringify({ status, message: text }) + '\n' : '';
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.#stats.requests++;
    const o = this.options;
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== o.path) return this.#respond(res, 404, 'Not found');
    if (req.method !== 'POST') return this.#respond(res, 405, 'Method not allowed', { allow: 'POST' });
    if (this.#closing || this.#ended) return this.#respond(res, 503, 'Shutting down', { 'retry-after': '5', connection: 'close' });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > o.maxBodyBytes) {
      this.#respond(res, 413, 'Body too large', { connection: 'close' });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > o.maxBodyBytes) {
        over = true;
        this.#respond(res, 413, 'Body too large', { connection: 'close' });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) this.#verified(req, res, Buffer.concat(chunks, size));
    });
    req.on('error', () => res.destroy());
  }

  #verified(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const o = this.options;
    const h = req.headers;
    const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
    const id = one(h['webhook-id']);
    let timestamp: number;
    try {
      timestamp = verify(o.secrets, { id, timestamp: one(h['webhook-timestamp']), signature: one(h['webhook-signature']), body }, o.toleranceSec);
    } catch (error) {
      const code = (error as HttpError).code;
      this.#logger.warn({ code, webhookId: id?.slice(0, 100), remote: req.socket.remoteAddress }, 'refused a webhook');
      return this.#respond(res, 401, code === 'SNOOPY_HTTP_TIMESTAMP' ? 'Bad timestamp' : 'Bad signature');
    }
    const webhookId = id!;
    if (this.#processed(webhookId)) {
      this.#stats.duplicates++;
      return this.#respond(res, 204, '');
    }
    const inFlight = this.#pending.get(webhookId);
    if (inFlight) {
      this.#stats.duplicates++;
      this.#wait(inFlight, res);
      return;
    }
    if (this.#pending.size >= o.maxPending) return this.#respond(res, 503, 'Too many pending webhooks', { 'retry-after': '1' });
    let value: T;
    try {
      value = o.codec.decode(body);
    } catch (error) {
      this.#logger.warn({ code: (error as { code?: string }).code ?? 'SNOOPY_CODEC_DECODE', webhookId }, 'webhook body did not decode');
      return this.#respond(res, 400, 'Body could not be decoded');
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const entry: Entry<T> = { event: { id: webhookId, timestamp, value, headers }, responses: [], yielded: false };
    this.#pending.set(webhookId, entry);
    this.#wait(entry, res);
    this.#stats.accepted++;
    if (this.#next) {
      const next = this.#next;
      this.#next = undefined;
      entry.yielded = true;
      next({ value: entry.event, done: false });
    } else this.#queue.push(entry);
  }

  #wait(entry: Entry<T>, res: http.ServerResponse): void {
    this.#unanswered++;
    const timer = setTimeout(() => {
      entry.responses = entry.responses.filter((r) => r.res !== res);
      this.#answer(res, 503, 'Not processed in time', { 'retry-after': String(Math.max(1, Math.ceil(this.options.ackTimeoutMs / 1000))) });
    }, this.options.ackTimeoutMs);
    entry.responses.push({ res, timer });
    res.on('close', () => {
      // The sender gave up on this request; the message stays pending for its retry to join.
      if (!res.writableEnded) {
        clearTimeout(timer);
        entry.responses = entry.responses.filter((r) => r.res !== res);
        this.#countAnswered();
      }
    });
  }

  #answer(res: http.ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
    if (!res.writableEnded && !res.destroyed) {
      this.#respond(res, status, text, headers);
      this.#countAnswered();
    }
  }

  #countAnswered(): void {
    if (--this.#unanswered === 0 && this.#answered.length) {
      const waiters = this.#answered;
      this.#answered = [];
      for (const w of waiters) w();
    }
  }

  #processed(id: string): boolean {
    const cache = this.options.dedupe;
    if (cache) return cache.has(id);
    const until = this.#seen.get(id);
    if (until === undefined) return false;
    if (until >= Date.now()) return true;
    this.#seen.delete(id);
    return false;
  }

  #remember(id: string): void {
    const o = this.options;
    if (o.dedupe) {
      o.dedupe.set(id, 1, { ttl: o.dedupeTtlMs }).catch((error: unknown) =>
        this.#logger.warn({ code: (error as { code?: string }).code, webhookId: id }, 'could not record a processed webhook id'),
      );
      return;
    }
    this.#seen.delete(id);
    this.#seen.set(id, Date.now() + o.dedupeTtlMs);
    if (this.#seen.size > o.dedupeSize) this.#seen.delete(this.#seen.keys().next().value!);
  }

  /** Core calls this when the snap finished with `event`: its requests are answered 204. */
  [ack](event: WebhookEvent<T>): void {
    const entry = this.#pending.get(event.id);
    if (!entry || entry.event !== event) return;
    this.#pending.delete(event.id);
    this.#remember(event.id);
    this.#stats.acknowledged++;
    for (const { res, timer } of entry.responses) {
      clearTimeout(timer);
      this.#answer(res, 204, '');
    }
    entry.responses = [];
  }

  [describe](event: WebhookEvent<T>): MessageMeta {
    return { timestamp: event.timestamp * 1000, headers: event.headers };
  }

  [Symbol.asyncIterator](): AsyncIterator<WebhookEvent<T>> {
    if (this.#closing || this.#ended) throw new ClosedError('Webhook source');
    if (this.#iterating) throw new ClosedError('Webhook source iterator (it can be iterated once)');
    this.#iterating = true;
    return {
      next: () => {
        const entry = this.#queue.shift();
        if (entry) {
          entry.yielded = true;
          return Promise.resolve({ value: entry.event, done: false });
        }
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#next = resolve));
      },
      return: () => {
        this.#end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Ends the iterable; messages never handed to the stream are answered 503 so that they come again. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const entry of this.#queue.splice(0)) {
      this.#pending.delete(entry.event.id);
      for (const { res, timer } of entry.responses) {
        clearTimeout(timer);
        this.#answer(res, 503, 'Shutting down', { 'retry-after': '5' });
      }
    }
    const next = this.#next;
    this.#next = undefined;
    next?.({ value: undefined, done: true });
  }

  /**
   * Stops accepting requests, lets the messages already received finish (each is answered by its
   * acknowledgement or its `ackTimeoutMs`), then ends the iterable and closes the server. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#listening.catch(() => {});
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      // While a consumer still iterates, its in-flight messages may yet be acknowledged; once it
      // has stopped (core returns the iterator before it disposes the source) none will be.
      if (this.#unanswered > 0 && !this.#ended) await new Promise<void>((resolve) => this.#answered.push(resolve));
      this.#end();
      for (const entry of this.#pending.values()) {
        for (const { res, timer } of entry.responses) {
          clearTimeout(timer);
          this.#answer(res, 503, 'Not processed', { 'retry-after': '5' });
        }
        entry.responses = [];
      }
      this.#server.closeAllConnections();
      await closed;
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** `new WebhookSource(options)`: a webhook receiver as a snap source. */
export function webhookSource<T = unknown>(options: WebhookSourceOptions<T>): WebhookSource<T> {
  return new WebhookSource<T>(options);
}
