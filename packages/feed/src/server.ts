import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { OptionsError, SnoopyError, describeValue, rootLogger } from '@snoopy/core';
import type { Feed } from './feed.js';
import { resolveServeFeedOptions, type ResolvedServeFeedOptions, type ServeFeedOptions } from './options.js';
import type { Filters } from './types.js';

/** A running JSON-RPC server of one feed. */
export interface FeedServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and ends open connections; does not close the feed. Idempotent. */
  close(): Promise<void>;
}

/** JSON-RPC 2.0 error codes. */
export const rpcErrors = Object.freeze({
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  /** A feed error that is not about the parameters (the store failed, the feed is closed). */
  server: -32000,
});

interface RpcError {
  code: number;
  message: string;
  data?: { code: string; retriable: boolean };
}

type Id = string | number | null;

class ParamsError extends Error {}

type Method = (feed: Feed<object>, params: unknown) => Promise<unknown>;

function positional(params: unknown, names: readonly string[]): unknown[] {
  if (params === undefined) return [];
  if (Array.isArray(params)) {
    if (params.length > names.length) throw new ParamsError(`Expected at most ${names.length} parameters (${names.join(', ')}), got ${params.length}`);
    return params;
  }
  const named = params as Record<string, unknown>;
  for (const key of Object.keys(named)) {
    if (!names.includes(key)) throw new ParamsError(`Unknown parameter \`${key}\`; expected ${names.join(', ')}`);
  }
  return names.map((n) => named[n]);
}

function plainObject(name: string, value: unknown, required: boolean): Record<string, unknown> | undefined {
  if (value === undefined || (value === null && !required)) {
    if (required) throw new ParamsError(`Expected \`${name}\` to be an object, got ${describeValue(value)}`);
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ParamsError(`Expected \`${name}\` to be an object, got ${describeValue(value)}`);
  return value as Record<string, unknown>;
}

function pageOptions(value: unknown, allowed: readonly string[]): Record<string, unknown> | undefined {
  const o = plainObject('options', value, false);
  if (o === undefined) return undefined;
  for (const key of Object.keys(o)) if (!allowed.includes(key)) throw new ParamsError(`Unknown option \`${key}\`; expected ${allowed.join(', ')}`);
  return o;
}

// Only these are callable: a null-prototype table, so `constructor`, `__proto__`, `init`,
// `close` or `store` are "method not found" rather than a property of the feed.
const methods: Record<string, Method> = Object.assign(Object.create(null) as Record<string, Method>, {
  async insert(feed: Feed<object>, params: unknown) {
    const [event, options] = positional(params, ['event', 'options']);
    const o = pageOptions(options, ['at']);
    return feed.insert(plainObject('event', event, true)!, o === undefined ? undefined : { at: o.at as number });
  },
  async items(feed: Feed<object>, params: unknown) {
    const [filters, options] = positional(params, ['filters', 'options']);
    return feed.items(plainObject('filters', filters, false) as Filters | undefined, pageOptions(options, ['start', 'end']));
  },
  async count(feed: Feed<object>, params: unknown) {
    const [filters] = positional(params, ['filters']);
    return feed.count(plainObject('filters', filters, false) as Filters | undefined);
  },
});

const PARAM_CODES = new Set(['SNOOPY_OPTIONS_INVALID', 'SNOOPY_FEED_EVENT', 'SNOOPY_FEED_FILTER', 'SNOOPY_FEED_FANOUT']);

function errorOf(error: unknown): RpcError {
  if (error instanceof ParamsError) return { code: rpcErrors.invalidParams, message: `Invalid params: ${error.message}` };
  if (error instanceof SnoopyError) {
    // The message and the code only: never a stack or a cause.
    return {
      code: PARAM_CODES.has(error.code) ? rpcErrors.invalidParams : rpcErrors.server,
      message: error.message,
      data: { code: error.code, retriable: error.retriable },
    };
  }
  return { code: rpcErrors.internal, message: 'Internal error' };
}

const isId = (id: unknown): id is Id => id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));

async function call(feed: Feed<object>, request: unknown): Promise<object | undefined> {
  const r = request as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) {
    return { jsonrpc: '2.0', error: { code: rpcErrors.invalidRequest, message: 'Invalid Request: expected an object' }, id: null };
  }
  const hasId = Object.hasOwn(r, 'id');
  const id: Id = hasId && isId(r.id) ? r.id : null;
  if (r.jsonrpc !== '2.0' || typeof r.method !== 'string' || (hasId && !isId(r.id)) || (r.params !== undefined && (typeof r.params !== 'object' || r.params === null))) {
    return { jsonrpc: '2.0', error: { code: rpcErrors.invalidRequest, message: 'Invalid Request: expected jsonrpc "2.0", a method name, params as an array or object, and an id that is a string, number or null' }, id };
  }
  const method = Object.hasOwn(methods, r.method) ? methods[r.method] : undefined;
  if (method === undefined) {
    if (!hasId) return undefined;
    return { jsonrpc: '2.0', error: { code: rpcErrors.methodNotFound, message: `Method not found: ${JSON.stringify(r.method.slice(0, 64))}; methods: insert, items, count` }, id };
  }
  try {
    const result = await method(feed, r.params);
    return hasId ? { jsonrpc: '2.0', result, id } : undefined;
  } catch (error) {
    return hasId ? { jsonrpc: '2.0', error: errorOf(error), id } : undefined;
  }
}

function authorised(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = req.headers.authorization ?? '';
  const want = Buffer.from(`Bearer ${token}`);
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(feed: Feed<object>, options: ResolvedServeFeedOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    send(res, 405, { jsonrpc: '2.0', error: { code: rpcErrors.invalidRequest, message: 'Invalid Request: use POST' }, id: null }, { allow: 'POST' });
    return;
  }
  if (!authorised(req, options.token)) {
    send(res, 401, { jsonrpc: '2.0', error: { code: rpcErrors.invalidRequest, message: 'Unauthorized: a valid bearer token is required' }, id: null }, { 'www-authenticate': 'Bearer' });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > options.maxBodyBytes) {
      send(res, 413, { jsonrpc: '2.0', error: { code: rpcErrors.invalidRequest, message: `Invalid Request: the body is larger than ${options.maxBodyBytes} bytes` }, id: null }, { connection: 'close' });
      req.destroy();
      return;
    }
    chunks.push(chunk);
  }
  let request: unknown;
  try {
    request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    send(res, 200, { jsonrpc: '2.0', error: { code: rpcErrors.parse, message: 'Parse error: the body is not JSON' }, id: null });
    return;
  }
  if (Array.isArray(request)) {
    if (request.length === 0 || request.length > options.maxBatch) {
      const why = request.length === 0 ? 'an empty batch' : `a batch of more than ${options.maxBatch} calls`;
      send(res, 200, { jsonrpc: '2.0', error: { code: rpcErrors.invalidRequest, message: `Invalid Request: ${why}` }, id: null });
      return;
    }
    const responses = (await Promise.all(request.map((r) => call(feed, r)))).filter((r) => r !== undefined);
    if (responses.length === 0) send(res, 204, undefined);
    else send(res, 200, responses);
    return;
  }
  const response = await call(feed, request);
  if (response === undefined) send(res, 204, undefined);
  else send(res, 200, response);
}

/**
 * Serves `insert`, `items` and `count` of `feed` (and nothing else) as JSON-RPC 2.0 over HTTP POST,
 * with batches. Errors carry the JSON-RPC code, the message and the snoopy code, never a stack.
 */
export async function serveFeed(feed: Feed<any>, options?: ServeFeedOptions): Promise<FeedServer> {
  if (typeof feed !== 'object' || feed === null || typeof (feed as Partial<Feed>).items !== 'function') {
    throw new OptionsError(`Expected a feed (feed({ keys, store })), got ${describeValue(feed)}`);
  }
  const resolved = resolveServeFeedOptions(options);
  const log = rootLogger().child({ component: 'feed-server' });
  const server: Server = createServer((req, res) => {
    handle(feed as Feed<object>, resolved, req, res).catch((error: unknown) => {
      log.debug({ err: error }, 'request failed');
      if (!res.headersSent) send(res, 500, { jsonrpc: '2.0', error: { code: rpcErrors.internal, message: 'Internal error' }, id: null });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  log.info({ port }, 'feed JSON-RPC server listening');
  return { url: `http://${host}:${port}/`, port, close, [Symbol.asyncDispose]: close };
}

