import { JsonCodec, type Codec } from '@snoopy/codecs';
import type { Cache } from '@snoopy/cache';
import { bool, fail, int, isCodec, knownKeys, plainObject, str } from './internal/check.js';
import { secretKey } from './signature.js';

/** The retry schedule of a webhook sink: exponential backoff with full jitter. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 6 */
  readonly attempts?: number;
  /** Upper bound of the wait before the second attempt; doubles for each next one. @default 1000 */
  readonly baseMs?: number;
  /** Largest wait between two attempts (a `Retry-After` may ask for longer). @default 60_000 */
  readonly maxMs?: number;
}

/** Options of `webhook(url, options)`. */
export interface WebhookOptions<T = unknown> {
  /**
   * Signing secrets in the `whsec_<base64>` form. Each delivery carries one signature per secret,
   * so that during a rotation the receiver accepts either. Without one, requests are not signed.
   * @default []
   */
  readonly secrets?: readonly string[];
  /** @default 'POST' */
  readonly method?: 'POST' | 'PUT';
  /** Extra request headers. @default {} */
  readonly headers?: Readonly<Record<string, string>>;
  /** Encodes the body. @default new JsonCodec() */
  readonly codec?: Codec<T>;
  /** The body's `content-type`. @default 'application/json' */
  readonly contentType?: string;
  /** Deliveries in flight at once (different keys; one key is always sequential). @default 16 */
  readonly concurrency?: number;
  /** @default { attempts: 6, baseMs: 1000, maxMs: 60_000 } */
  readonly retry?: RetryOptions;
  /** Milliseconds one attempt may take, response included. @default 15_000 */
  readonly timeoutMs?: number;
  /** Deliveries queued or in flight at which the sink makes core wait before it delivers more. @default 10_000 */
  readonly highWaterMark?: number;
  /** Allow URLs that resolve to loopback, private, link-local or metadata addresses. @default false */
  readonly allowPrivate?: boolean;
  /**
   * The `webhook-id` of a value. @default `<topic>:<partition>:<offset>` for a message that has
   * them (a Kafka message), else a random `msg_<uuid>`
   */
  readonly id?: (value: T) => string;
  /** The ordering key of a value: deliveries of one key are sequential. @default a message's `key`, else none */
  readonly key?: (value: T) => unknown;
  /** Longest time `close()` waits for deliveries in flight before failing them. @default 30_000 */
  readonly closeTimeoutMs?: number;
}

export interface ResolvedWebhookOptions<T = unknown> {
  readonly secrets: readonly Buffer[];
  readonly method: 'POST' | 'PUT';
  readonly headers: Readonly<Record<string, string>>;
  readonly codec: Codec<T>;
  readonly contentType: string;
  readonly concurrency: number;
  readonly retry: Required<RetryOptions>;
  readonly timeoutMs: number;
  readonly highWaterMark: number;
  readonly allowPrivate: boolean;
  readonly id: ((value: T) => string) | undefined;
  readonly key: ((value: T) => unknown) | undefined;
  readonly closeTimeoutMs: number;
}

export const webhookDefaults = Object.freeze({
  method: 'POST' as const,
  contentType: 'application/json',
  concurrency: 16,
  retry: Object.freeze({ attempts: 6, baseMs: 1000, maxMs: 60_000 }),
  timeoutMs: 15_000,
  highWaterMark: 10_000,
  allowPrivate: false,
  closeTimeoutMs: 30_000,
});

const webhookKeys = ['secrets', 'method', 'headers', 'codec', 'contentType', 'concurrency', 'retry', 'timeoutMs', 'highWaterMark', 'allowPrivate', 'id', 'key', 'closeTimeoutMs'];

function secrets(where: string, value: unknown): Buffer[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(where, 'secrets', 'an array of `whsec_<base64>` strings', value);
  return value.map((s, i) => secretKey(s as string, `${where}: secrets[${i}]`));
}

function fn<F>(where: string, field: string, value: unknown): F | undefined {
  if (value !== undefined && typeof value !== 'function') fail(where, field, 'a function', value);
  return value as F | undefined;
}

/** Merges `options` over `webhookDefaults`, validates every field and freezes the result. */
export function resolveWebhookOptions<T>(options: WebhookOptions<T> | undefined, where = 'webhook'): ResolvedWebhookOptions<T> {
  const o = plainObject(where, 'options', options ?? {}) as WebhookOptions<T>;
  knownKeys(where, o, webhookKeys);
  const method = o.method ?? webhookDefaults.method;
  if (method !== 'POST' && method !== 'PUT') fail(where, 'method', "'POST' or 'PUT'", method);
  const headers: Record<string, string> = {};
  if (o.headers !== undefined) {
    for (const [k, v] of Object.entries(plainObject(where, 'headers', o.headers))) {
      if (typeof v !== 'string') fail(where, `headers.${k}`, 'a string', v);
      if (/^webhook-/i.test(k)) fail(where, `headers.${k}`, 'absent (webhook-* headers are set by the sink)', v);
      headers[k.toLowerCase()] = v;
    }
  }
  if (o.codec !== undefined && !isCodec(o.codec)) fail(where, 'codec', 'a codec ({ encode, decode })', o.codec);
  const r = plainObject(where, 'retry', o.retry ?? {});
  knownKeys(`${where}: retry`, r, ['attempts', 'baseMs', 'maxMs']);
  const retry = Object.freeze({
    attempts: int(where, 'retry.attempts', r.attempts, 1, webhookDefaults.retry.attempts),
    baseMs: int(where, 'retry.baseMs', r.baseMs, 0, webhookDefaults.retry.baseMs),
    maxMs: int(where, 'retry.maxMs', r.maxMs, 0, webhookDefaults.retry.maxMs),
  });
  return Object.freeze({
    secrets: Object.freeze(secrets(where, o.secrets)),
    method,
    headers: Object.freeze(headers),
    codec: (o.codec ?? new JsonCodec()) as Codec<T>,
    contentType: str(where, 'contentType', o.contentType, webhookDefaults.contentType),
    concurrency: int(where, 'concurrency', o.concurrency, 1, webhookDefaults.concurrency),
    retry,
    timeoutMs: int(where, 'timeoutMs', o.timeoutMs, 1, webhookDefaults.timeoutMs),
    highWaterMark: int(where, 'highWaterMark', o.highWaterMark, 1, webhookDefaults.highWaterMark),
    allowPrivate: bool(where, 'allowPrivate', o.allowPrivate, webhookDefaults.allowPrivate),
    id: fn<(value: T) => string>(where, 'id', o.id),
    key: fn<(value: T) => unknown>(where, 'key', o.key),
    closeTimeoutMs: int(where, 'closeTimeoutMs', o.closeTimeoutMs, 0, webhookDefaults.closeTimeoutMs),
  });
}

/** Options of `webhookSource(options)`. */
export interface WebhookSourceOptions<T = unknown> {
  /** Secrets in the `whsec_<base64>` form; a request signed with any of them is accepted. */
  readonly secrets: readonly string[];
  /** Port to listen on; `0` picks a free one (read it from `await source.listen()`). @default 0 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The one path webhooks are POSTed to; others get 404. @default '/' */
  readonly path?: string;
  /** Largest accepted difference between `webhook-timestamp` and now, either way. @default 300 */
  readonly toleranceSec?: number;
  /** Decodes the verified body. @default new JsonCodec() */
  readonly codec?: Codec<T>;
  /** Largest body accepted; larger ones get 413. @default 1_048_576 */
  readonly maxBodyBytes?: number;
  /** How long a request waits for its message to be processed before it gets 503 with Retry-After. @default 30_000 */
  readonly ackTimeoutMs?: number;
  /** Requests waiting at once; more get 503 with Retry-After at once. @default 1000 */
  readonly maxPending?: number;
  /**
   * Where processed `webhook-id`s are remembered (a `@snoopy/cache` Cache or namespace, for a window
   * that survives a restart). @default an in-memory window of `dedupeSize` ids
   */
  readonly dedupe?: Cache<unknown, string>;
  /** Ids kept by the in-memory window. @default 100_000 */
  readonly dedupeSize?: number;
  /** How long a processed id is remembered. @default 86_400_000 (24 h) */
  readonly dedupeTtlMs?: number;
}

export interface ResolvedWebhookSourceOptions<T = unknown> {
  readonly secrets: readonly Buffer[];
  readonly port: number;
  readonly host: string;
  readonly path: string;
  readonly toleranceSec: number;
  readonly codec: Codec<T>;
  readonly maxBodyBytes: number;
  readonly ackTimeoutMs: number;
  readonly maxPending: number;
  readonly dedupe: Cache<unknown, string> | undefined;
  readonly dedupeSize: number;
  readonly dedupeTtlMs: number;
}

export const webhookSourceDefaults = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  path: '/',
  toleranceSec: 300,
  maxBodyBytes: 1_048_576,
  ackTimeoutMs: 30_000,
  maxPending: 1000,
  dedupeSize: 100_000,
  dedupeTtlMs: 86_400_000,
});

const sourceKeys = ['secrets', 'port', 'host', 'path', 'toleranceSec', 'codec', 'maxBodyBytes', 'ackTimeoutMs', 'maxPending', 'dedupe', 'dedupeSize', 'dedupeTtlMs'];

export function resolveWebhookSourceOptions<T>(options: WebhookSourceOptions<T>, where = 'webhookSource'): ResolvedWebhookSourceOptions<T> {
  const o = plainObject(where, 'options', options) as unknown as WebhookSourceOptions<T>;
  knownKeys(where, o, sourceKeys);
  const keys = secrets(where, o.secrets);
  if (keys.length === 0) fail(where, 'secrets', 'a non-empty array of `whsec_<base64>` strings', o.secrets);
  const path = str(where, 'path', o.path, webhookSourceDefaults.path);
  if (!path.startsWith('/')) fail(where, 'path', 'a path starting with `/`', path);
  if (o.codec !== undefined && !isCodec(o.codec)) fail(where, 'codec', 'a codec ({ encode, decode })', o.codec);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const dedupe: any = o.dedupe;
  if (dedupe !== undefined && (typeof dedupe !== 'function' || typeof dedupe.has !== 'function' || typeof dedupe.set !== 'function')) {
    fail(where, 'dedupe', 'a @snoopy/cache Cache', o.dedupe);
  }
  const port = int(where, 'port', o.port, 0, webhookSourceDefaults.port);
  if (port > 65535) fail(where, 'port', 'an integer from 0 to 65535', port);
  return Object.freeze({
    secrets: Object.freeze(keys),
    port,
    host: str(where, 'host', o.host, webhookSourceDefaults.host),
    path,
    toleranceSec: int(where, 'toleranceSec', o.toleranceSec, 1, webhookSourceDefaults.toleranceSec),
    codec: (o.codec ?? new JsonCodec()) as Codec<T>,
    maxBodyBytes: int(where, 'maxBodyBytes', o.maxBodyBytes, 1, webhookSourceDefaults.maxBodyBytes),
    ackTimeoutMs: int(where, 'ackTimeoutMs', o.ackTimeoutMs, 1, webhookSourceDefaults.ackTimeoutMs),
    maxPending: int(where, 'maxPending', o.maxPending, 1, webhookSourceDefaults.maxPending),
    dedupe: o.dedupe,
    dedupeSize: int(where, 'dedupeSize', o.dedupeSize, 1, webhookSourceDefaults.dedupeSize),
    dedupeTtlMs: int(where, 'dedupeTtlMs', o.dedupeTtlMs, 1, webhookSourceDefaults.dedupeTtlMs),
  });
}

/** One topic the gateway serves. */
export interface GatewayTopicOptions {
  /** Partitions (created with this many when missing; stream positions cover 0..n-1). @default 1 */
  readonly partitions?: number;
  /** Accept `POST /topics/:topic/events` with a publish grant. @default true */
  readonly publish?: boolean;
  /** Serve `GET /topics/:topic/stream` with a read grant, and subscriptions. @default true */
  readonly read?: boolean;
}

/** Options of `new Gateway(options)` and of `snoopy gateway --config`. */
export interface GatewayOptions {
  /** librdkafka settings for every topic (`bootstrap.servers`, security...). */
  readonly kafka: Readonly<Record<string, string | number | boolean>>;
  /** The topics served, by name. */
  readonly topics: Readonly<Record<string, GatewayTopicOptions>>;
  /** Grant signing keys (see `Grants`). */
  readonly keys: readonly import('./grants.js').GrantKey[];
  /** @default 'HS256' */
  readonly algorithm?: 'HS256' | 'ES256' | 'EdDSA';
  /** `Authorization: Bearer <adminToken>` manages subscriptions and issues grants over HTTP; without it those routes are off. @default undefined */
  readonly adminToken?: string;
  /** Directory of the LevelDB cache that keeps subscriptions and revocations. */
  readonly dataDir: string;
  /** @default 8080 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Let subscriptions deliver to loopback/private addresses (tests, local setups). @default false */
  readonly allowPrivateWebhooks?: boolean;
  /** Retry schedule of subscription deliveries. @default webhookDefaults.retry */
  readonly webhookRetry?: RetryOptions;
  /** Largest publish body. @default 1_048_576 */
  readonly maxBodyBytes?: number;
  /** Bytes a stream may have unsent before the client is cut off as too slow. @default 1_048_576 */
  readonly streamBufferBytes?: number;
  /** Milliseconds between SSE heartbeat comments. @default 15_000 */
  readonly heartbeatMs?: number;
  /** Create missing topics at start. @default true */
  readonly createTopics?: boolean;
  /**
   * A topic that receives the dead letters of every subscription (a delivery that still failed
   * after its retries, or to an endpoint that answered 410), as JSON keyed by subscription name.
   * Without it they are logged and counted only. @default undefined
   */
  readonly deadLetterTopic?: string;
  /**
   * A compacted topic shared by every gateway instance for revocations: `revoke(jti)` on one
   * instance ends the token's streams on all of them within seconds. Without it revocations are
   * kept in `dataDir` and apply to this instance only. @default undefined
   */
  readonly revocationsTopic?: string;
}

export interface ResolvedGatewayOptions {
  readonly kafka: Readonly<Record<string, string | number | boolean>>;
  readonly topics: Readonly<Record<string, Required<GatewayTopicOptions>>>;
  readonly keys: readonly import('./grants.js').GrantKey[];
  readonly algorithm: 'HS256' | 'ES256' | 'EdDSA';
  readonly adminToken: string | undefined;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly allowPrivateWebhooks: boolean;
  readonly webhookRetry: RetryOptions | undefined;
  readonly maxBodyBytes: number;
  readonly streamBufferBytes: number;
  readonly heartbeatMs: number;
  readonly createTopics: boolean;
  readonly deadLetterTopic: string | undefined;
  readonly revocationsTopic: string | undefined;
}

export const gatewayDefaults = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  algorithm: 'HS256' as const,
  allowPrivateWebhooks: false,
  maxBodyBytes: 1_048_576,
  streamBufferBytes: 1_048_576,
  heartbeatMs: 15_000,
  createTopics: true,
});

const gatewayKeys = ['kafka', 'topics', 'keys', 'algorithm', 'adminToken', 'dataDir', 'port', 'host', 'allowPrivateWebhooks', 'webhookRetry', 'maxBodyBytes', 'streamBufferBytes', 'heartbeatMs', 'createTopics', 'deadLetterTopic', 'revocationsTopic'];

export function resolveGatewayOptions(options: GatewayOptions, where = 'gateway'): ResolvedGatewayOptions {
  const o = plainObject(where, 'options', options) as unknown as GatewayOptions;
  knownKeys(where, o, gatewayKeys);
  if (typeof o.dataDir !== 'string' || o.dataDir === '') fail(where, 'dataDir', 'a directory path', o.dataDir);
  const kafka = plainObject(where, 'kafka', o.kafka);
  if (typeof kafka['bootstrap.servers'] !== 'string') fail(where, 'kafka.bootstrap.servers', 'a string', kafka['bootstrap.servers']);
  const topics: Record<string, Required<GatewayTopicOptions>> = {};
  for (const [name, t] of Object.entries(plainObject(where, 'topics', o.topics))) {
    const at = `topics.${name}`;
    const tt = plainObject(where, at, t ?? {});
    knownKeys(`${where}: ${at}`, tt, ['partitions', 'publish', 'read']);
    topics[name] = Object.freeze({
      partitions: int(where, `${at}.partitions`, tt.partitions, 1, 1),
      publish: bool(where, `${at}.publish`, tt.publish, true),
      read: bool(where, `${at}.read`, tt.read, true),
    });
  }
  if (Object.keys(topics).length === 0) fail(where, 'topics', 'at least one topic', o.topics);
  if (!Array.isArray(o.keys) || o.keys.length === 0) fail(where, 'keys', 'a non-empty array of grant keys', o.keys);
  if (o.adminToken !== undefined && (typeof o.adminToken !== 'string' || o.adminToken.length < 16)) fail(where, 'adminToken', 'a string of at least 16 characters', o.adminToken);
  const port = int(where, 'port', o.port, 0, gatewayDefaults.port);
  if (port > 65535) fail(where, 'port', 'an integer from 0 to 65535', port);
  if (o.webhookRetry !== undefined) resolveWebhookOptions({ retry: o.webhookRetry }, `${where}: webhookRetry`);
  return Object.freeze({
    kafka: Object.freeze({ ...(kafka as Record<string, string | number | boolean>) }),
    topics: Object.freeze(topics),
    keys: o.keys,
    algorithm: o.algorithm ?? gatewayDefaults.algorithm,
    adminToken: o.adminToken,
    dataDir: str(where, 'dataDir', o.dataDir, ''),
    port,
    host: str(where, 'host', o.host, gatewayDefaults.host),
    allowPrivateWebhooks: bool(where, 'allowPrivateWebhooks', o.allowPrivateWebhooks, gatewayDefaults.allowPrivateWebhooks),
    webhookRetry: o.webhookRetry,
    maxBodyBytes: int(where, 'maxBodyBytes', o.maxBodyBytes, 1, gatewayDefaults.maxBodyBytes),
    streamBufferBytes: int(where, 'streamBufferBytes', o.streamBufferBytes, 1, gatewayDefaults.streamBufferBytes),
    heartbeatMs: int(where, 'heartbeatMs', o.heartbeatMs, 1, gatewayDefaults.heartbeatMs),
    createTopics: bool(where, 'createTopics', o.createTopics, gatewayDefaults.createTopics),
    deadLetterTopic: o.deadLetterTopic === undefined ? undefined : str(where, 'deadLetterTopic', o.deadLetterTopic, ''),
    revocationsTopic: o.revocationsTopic === undefined ? undefined : str(where, 'revocationsTopic', o.revocationsTopic, ''),
  });
}
