import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { Cache } from '@snoopy/cache';
import { ClosedError, TimeoutError, rootLogger, type DeadLetter, type Logger } from '@snoopy/core';
import { Topic, type Delivery } from '@snoopy/kafka';
import { compileFilter, FilterError, type Predicate } from './filter.js';
import { Grants, type Grant, type GrantScope, type IssueOptions } from './grants.js';
import { HttpError } from './errors.js';
import { EventStream, parseCursor, type Cursor } from './internal/event-stream.js';
import { Metrics } from './internal/metrics.js';
import { Tail } from './internal/tail.js';
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options.js';
import { publisher, type Publisher } from './publisher.js';
import { generateSecret } from './signature.js';
import { Subscription, type SubscriptionSpec } from './subscription.js';
import { checkUrl } from './address-guard.js';

class Reply extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface PublishEvent {
  readonly value: unknown;
  readonly key?: string | null;
  readonly headers?: Record<string, string>;
}

/**
 * The event gateway: publish over HTTP, webhook subscriptions, and authorized filtered streams
 * (SSE or NDJSON) for third parties, all carried by Kafka. `await Gateway.start(options)` or
 * `snoopy gateway --config gateway.json`.
 */
export class Gateway implements AsyncDisposable {
  readonly options: ResolvedGatewayOptions;
  readonly grants: Grants;
  readonly metrics = new Metrics();
  readonly #logger: Logger;
  readonly #server: http.Server;
  readonly #topics = new Map<string, Topic<unknown, string>>();
  readonly #tails = new Map<string, Tail>();
  readonly #streams = new Set<EventStream>();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #inflight = new Set<Promise<unknown>>();
  #cache!: Cache<unknown, string>;
  #store!: Cache<SubscriptionSpec, string>;
  #revocations!: Cache<number, string>;
  #state: 'starting' | 'ready' | 'closing' | 'closed' = 'starting';
  #closing: Promise<void> | undefined;
  #unrevoke: (() => void) | undefined;
  #deadLetters: Topic<unknown, string> | undefined;
  #revocationsTopic: Topic<unknown, string> | undefined;
  #revocationsTail: Tail | undefined;

  constructor(options: GatewayOptions) {
    this.options = resolveGatewayOptions(options);
    this.grants = new Grants({ keys: this.options.keys, algorithm: this.options.algorithm });
    this.#logger = rootLogger().child({ component: 'gateway' });
    this.#server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
      this.#route(req, res).catch((error: unknown) => this.#logger.error({ err: error }, 'request handler failed'));
    });
    this.metrics.gauge('snoopy_gateway_open_streams', 'Open SSE/NDJSON streams', () => {
      const by = new Map<string, number>();
      for (const s of this.#streams) by.set(s.topic, (by.get(s.topic) ?? 0) + 1);
      return [...by].map(([topic, n]) => [{ topic }, n]);
    });
    this.metrics.gauge('snoopy_gateway_deliveries', 'Webhook delivery attempts by subscription and status (0: timeout or network error)', () =>
      [...this.#subscriptions].flatMap(([name, s]) => Object.entries(s.stats.byStatus).map(([status, n]) => [{ subscription: name, status }, n] as [Record<string, string>, number])),
    );
    this.metrics.gauge('snoopy_gateway_subscription_unacknowledged', 'Messages a subscription fetched and has not finished (its in-flight lag)', () =>
      [...this.#subscriptions].map(([name, s]) => [{ subscription: name }, s.stats.fetched - s.stats.acked]),
    );
    this.metrics.gauge('snoopy_gateway_subscription_dead_lettered', 'Deliveries that failed for good', () =>
      [...this.#subscriptions].map(([name, s]) => [{ subscription: name }, s.stats.deadLettered]),
    );
  }

  /** `new Gateway(options)` and `await gateway.start()`. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const g = new Gateway(options);
    try {
      await g.start();
    } catch (error) {
      await g.close().catch(() => {});
      throw error;
    }
    return g;
  }

  /** Creates missing topics, starts the tails and stored subscriptions, then listens. */
  async start(): Promise<{ port: number; url: string }> {
    const o = this.options;
    this.#cache = await Cache.open<unknown>(o.dataDir);
    this.#store = this.#cache.namespace<SubscriptionSpec>('subscriptions');
    this.#revocations = this.#cache.namespace<number>('revocations');
    for await (const [jti, exp] of this.#revocations.entries()) this.grants.revoke(jti, exp);
    this.#unrevoke = this.grants.onRevoke((jti) => this.#onRevoke(jti));
    if (o.revocationsTopic !== undefined) {
      // Shared revocations: the live tail first (so nothing falls between), then what is there.
      const name = o.revocationsTopic;
      this.#revocationsTopic = Topic<unknown, string>(name, { ...o.kafka });
      if (o.createTopics) await this.#revocationsTopic.create({ partitions: 1, config: { 'cleanup.policy': 'compact' } });
      const apply = (jti: string | null, value: unknown): void => {
        const exp = (value as { exp?: unknown } | null)?.exp;
        if (jti && typeof exp === 'number' && exp * 1000 > Date.now()) this.grants.revoke(jti, exp);
      };
      this.#revocationsTail = new Tail(name, { ...o.kafka }, this.#logger);
      this.#revocationsTail.listeners.add({ offer: (m) => apply(m.key, m.value) });
      const deadline = Date.now() + 30_000;
      while (!this.#revocationsTail.assigned) {
        if (Date.now() > deadline) throw new TimeoutError(`Assigning the revocations topic ${name}`, 30_000);
        await new Promise((r) => setTimeout(r, 50));
      }
      for await (const m of this.#revocationsTopic.read({ partition: 0 })) apply(m.key, m.value);
    }
    for (const [name, t] of Object.entries(o.topics)) {
      const topic = Topic<unknown, string>(name, { ...o.kafka });
      this.#topics.set(name, topic);
      if (o.createTopics) await topic.create({ partitions: t.partitions });
      if (t.read) this.#tails.set(name, new Tail(name, { ...o.kafka }, this.#logger));
    }
    // A stream registered before its tail is assigned could miss messages between its catch-up and the tail's start.
    const deadline = Date.now() + 30_000;
    while ([...this.#tails.values()].some((t) => !t.assigned)) {
      if (Date.now() > deadline) throw new TimeoutError('Assigning the gateway tails their partitions', 30_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (o.deadLetterTopic !== undefined) {
      this.#deadLetters = Topic<unknown, string>(o.deadLetterTopic, { ...o.kafka });
      if (o.createTopics) await this.#deadLetters.create({ partitions: 1 });
    }
    for await (const [name, spec] of this.#store.entries()) this.#startSubscription(name, spec);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(o.port, o.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#state = 'ready';
    const a = this.#server.address() as AddressInfo;
    this.#logger.info({ port: a.port, topics: Object.keys(o.topics), subscriptions: this.#subscriptions.size }, 'gateway listening');
    return { port: a.port, url: `http://${o.host}:${a.port}` };
  }

  get address(): { port: number; url: string } {
    const a = this.#server.address() as AddressInfo;
    return { port: a.port, url: `http://${this.options.host}:${a.port}` };
  }

  // ---- in code ----

  /** Publishing to a configured topic without HTTP. */
  publisher<V = unknown>(topic: string): Publisher<V> {
    const t = this.#topics.get(topic);
    if (!t || !this.options.topics[topic]?.publish) throw new Reply(404, `Topic ${topic} is not configured for publishing`);
    return publisher(t as Topic<V, string>, topic);
  }

  /** `gateway.subscribe(name, topic).webhook(url, { where })`: creates or replaces a stored, running subscription. */
  subscribe(name: string, topic: string): { webhook(url: string, options?: { where?: string; secret?: string; from?: 'earliest' | 'latest' }): Promise<Subscription> } {
    return { webhook: (url, options = {}) => this.#putSubscription(name, { topic, url, ...options }) };
  }

  /** The running subscriptions by name. */
  get subscriptions(): ReadonlyMap<string, Subscription> {
    return this.#subscriptions;
  }

  async deleteSubscription(name: string): Promise<boolean> {
    const s = this.#subscriptions.get(name);
    if (!s) return false;
    this.#subscriptions.delete(name);
    await this.#store.delete(name);
    await s.close();
    return true;
  }

  /** Revokes a grant (persisted); its open streams end with a `revoked` event. */
  async revoke(jti: string): Promise<void> {
    const exp = Math.floor(Date.now() / 1000) + 86_400 * 30;
    await this.#revocations.set(jti, exp, { ttl: 86_400 * 30 * 1000 });
    await this.#revocationsTopic?.send({ exp }, { key: jti });
    this.grants.revoke(jti, exp);
  }

  issue(options: IssueOptions): Promise<string> {
    return this.grants.issue(options);
  }

  // ---- HTTP ----

  async #route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let route = 'other';
    try {
      const url = new URL(req.url ?? '/', 'http://gateway');
      let parts: string[];
      try {
        parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      } catch {
        throw new Reply(400, 'Malformed path');
      }
      if (parts[0] === 'healthz' && parts.length === 1) {
        route = 'healthz';
        const ok = this.#state === 'ready';
        return this.#json(res, ok ? 200 : 503, { status: this.#state, topics: Object.keys(this.options.topics).length, subscriptions: this.#subscriptions.size, streams: this.#streams.size }, route);
      }
      if (parts[0] === 'metrics' && parts.length === 1) {
        route = 'metrics';
        this.metrics.count('snoopy_gateway_requests_total', 'HTTP requests by route and status', { route, status: '200' });
        const body = this.metrics.text();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      if (this.#state !== 'ready') throw new Reply(503, 'Shutting down');
      if (parts[0] === 'topics' && parts.length === 3 && parts[2] === 'events') {
        route = 'publish';
        if (req.method !== 'POST') throw new Reply(405, 'Use POST');
        return await this.#publish(parts[1]!, req, res);
      }
      if (parts[0] === 'topics' && parts.length === 3 && parts[2] === 'stream') {
        route = 'stream';
        if (req.method !== 'GET') throw new Reply(405, 'Use GET');
        return await this.#stream(parts[1]!, url, req, res);
      }
      if (parts[0] === 'subscriptions' && parts.length === 2) {
        route = 'subscriptions';
        this.#admin(req);
        return await this.#subscriptionRoute(parts[1]!, req, res);
      }
      if (parts[0] === 'grants' && parts.length <= 2) {
        route = 'grants';
        this.#admin(req);
        if (parts.length === 1 && req.method === 'POST') {
          const body = (await this.#body(req)) as IssueOptions;
          return this.#json(res, 201, { token: await this.grants.issue(body) }, route);
        }
        if (parts.length === 2 && req.method === 'DELETE') {
          await this.revoke(parts[1]!);
          return this.#json(res, 200, { revoked: parts[1] }, route);
        }
        throw new Reply(405, 'Use POST /grants or DELETE /grants/:jti');
      }
      throw new Reply(404, 'Not found');
    } catch (error) {
      this.#fail(res, error, route);
    }
  }

  #fail(res: http.ServerResponse, error: unknown, route: string): void {
    if (error instanceof Reply) return this.#json(res, error.status, { error: error.message, ...error.extra }, route);
    if (error instanceof FilterError) return this.#json(res, 400, { error: error.message, code: error.code, position: error.position }, route);
    if (error instanceof HttpError && error.code === 'SNOOPY_HTTP_GRANT') return this.#json(res, error.status ?? 401, { error: error.message, code: error.code }, route, error.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
    if (error instanceof HttpError && error.code === 'SNOOPY_HTTP_ADDRESS_REFUSED') return this.#json(res, 400, { error: error.message, code: error.code }, route);
    const code = (error as { code?: string }).code;
    if (code === 'SNOOPY_OPTIONS_INVALID') return this.#json(res, 400, { error: (error as Error).message, code }, route);
    this.#logger.warn({ code, route }, 'request failed');
    this.#logger.debug({ err: error }, 'request failure');
    this.#json(res, (error as { retriable?: boolean }).retriable ? 503 : 500, { error: 'Internal error', code }, route);
  }

  #json(res: http.ServerResponse, status: number, body: unknown, route: string, headers: Record<string, string> = {}): void {
    this.metrics.count('snoopy_gateway_requests_total', 'HTTP requests by route and status', { route, status: String(status) });
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body) + '\n';
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  #admin(req: http.IncomingMessage): void {
    const token = this.options.adminToken;
    if (token === undefined) throw new Reply(404, 'Not found');
    const given = Buffer.from(bearer(req) ?? '');
    const want = Buffer.from(token);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new Reply(401, 'Admin token required');
  }

  async #body(req: http.IncomingMessage): Promise<unknown> {
    const raw = await this.#raw(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new Reply(400, 'Body is not JSON');
    }
  }

  async #raw(req: http.IncomingMessage): Promise<Buffer> {
    const max = this.options.maxBodyBytes;
    if (Number(req.headers['content-length'] ?? 0) > max) throw new Reply(413, 'Body too large');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > max) throw new Reply(413, 'Body too large');
      chunks.push(c);
    }
    return Buffer.concat(chunks, size);
  }

  async #grant(req: http.IncomingMessage, topic: string, scope: GrantScope): Promise<Grant> {
    return this.grants.verify(bearer(req), topic, scope);
  }

  async #publish(topic: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.options.topics[topic]?.publish) throw new Reply(404, `Topic ${topic} is not configured for publishing`);
    await this.#grant(req, topic, 'publish');
    const body = await this.#body(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    let events: PublishEvent[];
    if (type === 'application/x-www-form-urlencoded') {
      const form = body as Record<string, string>;
      if (form.topic !== undefined && form.topic !== topic) throw new Reply(400, 'Form field `topic` does not match the path');
      if (form.value === undefined) throw new Reply(400, 'Form field `value` is required');
      let value: unknown = form.value;
      try {
        value = JSON.parse(form.value);
      } catch {
        // a plain string value
      }
      events = [{ value, key: form.key ?? null }];
    } else {
      events = (Array.isArray(body) ? body : [body]).map((e, i) => checkEvent(e, i));
      if (events.length === 0) throw new Reply(400, 'No events');
    }
    const sending = this.publisher(topic).sendMany(events);
    this.#inflight.add(sending);
    let deliveries: Delivery[];
    try {
      deliveries = await sending;
    } finally {
      this.#inflight.delete(sending);
    }
    this.metrics.count('snoopy_gateway_publishes_total', 'Events published over HTTP', { topic }, deliveries.length);
    this.#json(res, 201, { results: deliveries.map((d) => ({ partition: d.partition, offset: d.offset })) }, 'publish');
  }

  async #stream(topic: string, url: URL, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const t = this.options.topics[topic];
    const tail = this.#tails.get(topic);
    if (!t?.read || !tail) throw new Reply(404, `Topic ${topic} is not configured for reading`);
    const grant = await this.#grant(req, topic, 'read');
    let filter: Predicate = grant.filter;
    const where = url.searchParams.get('where');
    if (where !== null) {
      const client = compileFilter(where);
      const granted = grant.filter;
      filter = (v) => granted(v) && client(v); // ANDed, never ORed
    }
    const from = url.searchParams.get('from') ?? 'latest';
    if (from !== 'latest' && from !== 'earliest') throw new Reply(400, "`from` must be 'latest' or 'earliest'");
    const last = (req.headers['last-event-id'] as string | undefined) ?? url.searchParams.get('lastEventId') ?? undefined;
    let cursor: Cursor;
    if (last !== undefined) {
      const parsed = parseCursor(last, t.partitions);
      if (!parsed) throw new Reply(400, 'Last-Event-ID is not a position of this topic');
      cursor = parsed;
    } else if (from === 'earliest') cursor = Array.from({ length: t.partitions }, () => 0);
    else cursor = Array.from({ length: t.partitions }, (_, p) => tail.next.get(p) ?? 'L');
    const format = (req.headers.accept ?? '').includes('application/x-ndjson') ? 'ndjson' : 'sse';
    this.metrics.count('snoopy_gateway_requests_total', 'HTTP requests by route and status', { route: 'stream', status: '200' });
    const stream = new EventStream(res, grant.jti, {
      format,
      filter,
      cursor,
      bufferBytes: this.options.streamBufferBytes,
      heartbeatMs: this.options.heartbeatMs,
      onClose: (s) => {
        this.#streams.delete(s);
        tail.listeners.delete(s);
        clearTimeout(expiry);
      },
    });
    stream.topic = topic;
    const expiry = setTimeout(() => stream.end('expired', { reason: 'grant expired' }), Math.max(0, grant.exp * 1000 - Date.now()));
    this.#streams.add(stream);
    tail.listeners.add(stream);
    if (this.grants.isRevoked(grant.jti)) return stream.end('revoked', { reason: 'grant revoked' });
    await stream.catchUp(this.#topics.get(topic)!);
  }

  async #subscriptionRoute(name: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'GET') {
      const s = this.#subscriptions.get(name);
      if (!s) throw new Reply(404, `No subscription ${name}`);
      return this.#json(res, 200, { name, ...publicSpec(s.spec), stats: s.stats }, 'subscriptions');
    }
    if (req.method === 'DELETE') {
      if (!(await this.deleteSubscription(name))) throw new Reply(404, `No subscription ${name}`);
      return this.#json(res, 200, { deleted: name }, 'subscriptions');
    }
    if (req.method === 'PUT') {
      const body = (await this.#body(req)) as Record<string, unknown>;
      if (body === null || typeof body !== 'object') throw new Reply(400, 'Expected { topic, url, where?, secret?, from? }');
      const { topic, url, where, secret, from, ...rest } = body;
      if (Object.keys(rest).length) throw new Reply(400, `Unknown field ${Object.keys(rest)[0]} (known: topic, url, where, secret, from)`);
      if (typeof topic !== 'string' || typeof url !== 'string') throw new Reply(400, '`topic` and `url` are required strings');
      if (where !== undefined && typeof where !== 'string') throw new Reply(400, '`where` must be a string');
      if (secret !== undefined && typeof secret !== 'string') throw new Reply(400, '`secret` must be a whsec_ string');
      if (from !== undefined && from !== 'earliest' && from !== 'latest') throw new Reply(400, "`from` must be 'earliest' or 'latest'");
      const s = await this.#putSubscription(name, { topic, url, where, secret, from } as never);
      return this.#json(res, 200, { name, ...publicSpec(s.spec), secret: s.spec.secret }, 'subscriptions');
    }
    throw new Reply(405, 'Use PUT, GET or DELETE');
  }

  async #putSubscription(name: string, input: { topic: string; url: string; where?: string; secret?: string; from?: 'earliest' | 'latest' }): Promise<Subscription> {
    if (this.#state === 'closing' || this.#state === 'closed') throw new ClosedError('Gateway');
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new Reply(400, 'Subscription names are 1-100 of A-Z a-z 0-9 . _ -');
    if (!this.options.topics[input.topic]?.read) throw new Reply(404, `Topic ${input.topic} is not configured for reading`);
    if (input.where !== undefined) compileFilter(input.where);
    checkUrl(input.url, this.options.allowPrivateWebhooks);
    const spec: SubscriptionSpec = {
      topic: input.topic,
      url: input.url,
      secret: input.secret ?? generateSecret(),
      ...(input.where !== undefined ? { where: input.where } : {}),
      ...(input.from !== undefined ? { from: input.from } : {}),
    };
    const old = this.#subscriptions.get(name);
    if (old) {
      this.#subscriptions.delete(name);
      await old.close();
    }
    await this.#store.set(name, spec);
    return this.#startSubscription(name, spec);
  }

  #startSubscription(name: string, spec: SubscriptionSpec): Subscription {
    const dlq = this.#deadLetters;
    const s = new Subscription(name, spec, {
      kafka: { ...this.options.kafka },
      allowPrivate: this.options.allowPrivateWebhooks,
      retry: this.options.webhookRetry,
      logger: this.#logger,
      ...(dlq ? { deadLetter: (sub: string, d: DeadLetter) => dlq.send({ subscription: sub, ...d.toJSON(), cause: d.error.cause }, { key: sub }) } : {}),
    });
    this.#subscriptions.set(name, s);
    return s;
  }

  #onRevoke(jti: string): void {
    for (const s of this.#streams) if (s.jti === jti) s.end('revoked', { reason: 'grant revoked' });
  }

  /**
   * Graceful stop (SIGTERM): stops accepting, finishes in-flight publishes, ends streams with a
   * `close` event, stops subscriptions (in-flight deliveries finish, offsets commit), closes
   * consumers, producers and the cache. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      await Promise.allSettled([...this.#inflight]);
      for (const s of [...this.#streams]) s.end('close', { reason: 'gateway shutting down' });
      await Promise.all([...this.#subscriptions.values()].map((s) => s.close()));
      this.#subscriptions.clear();
      await Promise.all([...this.#tails.values()].map((t) => t.close()));
      this.#server.closeAllConnections();
      if (this.#server.listening) await serverClosed;
      await Promise.all([...this.#topics.values()].map((t) => t.close()));
      await this.#deadLetters?.close();
      await this.#revocationsTail?.close();
      await this.#revocationsTopic?.close();
      this.#unrevoke?.();
      await this.#cache?.close();
      this.#state = 'closed';
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function bearer(req: http.IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

function checkEvent(e: unknown, i: number): PublishEvent {
  if (e === null || typeof e !== 'object' || Array.isArray(e) || !('value' in e)) throw new Reply(400, `Event ${i}: expected { value, key?, headers? }`);
  const { value, key, headers, ...rest } = e as Record<string, unknown>;
  if (Object.keys(rest).length) throw new Reply(400, `Event ${i}: unknown field ${Object.keys(rest)[0]} (known: value, key, headers)`);
  if (key !== undefined && key !== null && typeof key !== 'string') throw new Reply(400, `Event ${i}: key must be a string`);
  if (headers !== undefined) {
    if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) throw new Reply(400, `Event ${i}: headers must be an object of strings`);
    for (const v of Object.values(headers)) if (typeof v !== 'string') throw new Reply(400, `Event ${i}: headers must be an object of strings`);
  }
  return { value, key: (key as string | null | undefined) ?? null, headers: headers as Record<string, string> | undefined };
}

function publicSpec(spec: SubscriptionSpec): Omit<SubscriptionSpec, 'secret'> {
  const { secret: _secret, ...rest } = spec;
  return rest;
}
