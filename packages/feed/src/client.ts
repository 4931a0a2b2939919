import { AbortError, ClosedError, OptionsError, describeValue } from '@snoopy/core';
import { FeedRpcError } from './errors.js';
import { resolveFeedClientOptions, type FeedClientOptions } from './options.js';
import type { Filters } from './types.js';

/** Options of a client call. */
export interface CallOptions {
  /** Stops waiting with `SNOOPY_ABORTED`. @default undefined */
  readonly signal?: AbortSignal;
}

/** A typed JSON-RPC client of a feed served by `serveFeed`: the feed's own methods. */
export interface FeedClient<T extends object> extends AsyncDisposable {
  readonly url: string;
  insert(event: T, options?: { readonly at?: number } & CallOptions): Promise<string>;
  items(filters?: Filters, options?: { readonly start?: number; readonly end?: number } & CallOptions): Promise<T[]>;
  count(filters?: Filters, options?: CallOptions): Promise<number>;
  /** Later calls fail with `SNOOPY_CLOSED`; calls in flight finish. Idempotent. */
  close(): Promise<void>;
}

interface RpcResponse {
  jsonrpc?: unknown;
  result?: unknown;
  error?: { code?: unknown; message?: unknown; data?: { code?: unknown; retriable?: unknown } };
}

/** A client of the feed served at `url` (`server.url`). */
export function feedClient<T extends object = Record<string, unknown>>(url: string, options?: FeedClientOptions): FeedClient<T> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new OptionsError(`Expected \`url\` to be an http(s) URL, got ${describeValue(url)}`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new OptionsError(`Expected \`url\` to be an http(s) URL, got ${describeValue(url)}`);
  const resolved = resolveFeedClientOptions(options);
  let nextId = 1;
  let closed = false;

  async function call(method: string, params: unknown[], signal: AbortSignal | undefined): Promise<unknown> {
    if (closed) throw new ClosedError('Feed client');
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new OptionsError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(signal)}`);
    if (signal?.aborted) throw new AbortError(`Feed client ${method}`, signal.reason);
    const id = nextId++;
    const timeout = AbortSignal.timeout(resolved.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (resolved.token !== undefined) headers.authorization = `Bearer ${resolved.token}`;
    let response: Response;
    let body: RpcResponse;
    try {
      response = await fetch(target, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', method, params, id }),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
      body = (await response.json()) as RpcResponse;
    } catch (cause) {
      if (signal?.aborted) throw new AbortError(`Feed client ${method}`, signal.reason);
      throw new FeedRpcError(`Feed client ${method}: ${target.href} could not be reached or did not answer JSON-RPC: ${cause instanceof Error ? cause.message : String(cause)}`, {}, { cause });
    }
    if (typeof body !== 'object' || body === null || body.jsonrpc !== '2.0') {
      throw new FeedRpcError(`Feed client ${method}: ${target.href} did not answer JSON-RPC (HTTP ${response.status})`, { status: response.status });
    }
    if (body.error !== undefined) {
      const rpcCode = typeof body.error.code === 'number' ? body.error.code : undefined;
      const remoteCode = typeof body.error.data?.code === 'string' ? body.error.data.code : undefined;
      throw new FeedRpcError(`Feed client ${method}: ${String(body.error.message)}`, { rpcCode, remoteCode, status: response.status }, { retriable: body.error.data?.retriable === true });
    }
    return body.result;
  }

  const close = async (): Promise<void> => {
    closed = true;
  };
  return {
    url: target.href,
    async insert(event, o = {}) {
      const { signal, ...rest } = o;
      return (await call('insert', Object.keys(rest).length === 0 ? [event] : [event, rest], signal)) as string;
    },
    async items(filters, o = {}) {
      const { signal, ...rest } = o;
      return (await call('items', [filters ?? null, rest], signal)) as T[];
    },
    async count(filters, o = {}) {
      return (await call('count', [filters ?? null], o.signal)) as number;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
