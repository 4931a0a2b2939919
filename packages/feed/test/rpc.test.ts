import { describe, expect, it, onTestFinished } from 'vitest';
import { feedClient, serveFeed, FeedRpcError, type Feed, type ServeFeedOptions } from '../src/index.js';
import { level, openFeed, rejection } from './helpers.js';

interface Ev {
  name: string;
  kind?: string;
  user?: number;
}

async function served(options: ServeFeedOptions = {}): Promise<{ f: Feed<Ev>; url: string }> {
  const f = await openFeed<Ev>(level, { keys: ['kind', 'user'], maxFanOut: 8 });
  const server = await serveFeed(f, options);
  onTestFinished(() => server.close());
  return { f, url: server.url };
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, json: text === '' ? undefined : JSON.parse(text) };
}

const rpc = (method: unknown, params?: unknown, id: unknown = 1): string => JSON.stringify({ jsonrpc: '2.0', method, params, id });

describe('serveFeed and feedClient', () => {
  it('serves insert, items and count through a typed client', async () => {
    const { f, url } = await served();
    const client = feedClient<Ev>(url);
    const A = { name: 'A', kind: 'play', user: 1 };
    const B = { name: 'B', kind: 'play', user: 2 };
    const C = { name: 'C', kind: 'score', user: 1 };
    const ids = [await client.insert(A, { at: 1 }), await client.insert(B, { at: 2 }), await client.insert(C, { at: 3 })];
    expect(new Set(ids).size).toBe(3);
    expect(await client.items()).toEqual([C, B, A]);
    expect(await client.items({ kind: 'play' })).toEqual([B, A]);
    expect(await client.items({ kind: 'play', user: 1 })).toEqual([A]);
    expect(await client.items({ user: [1, 2] }, { start: 1, end: 3 })).toEqual([B, A]);
    expect(await client.count({ user: 1 })).toBe(2);
    expect(await f.items({ user: 2 })).toEqual([B]);
    await client.close();
    expect((await rejection(client.items())).code).toBe('SNOOPY_CLOSED');
  });

  it('answers with the JSON-RPC 2.0 error table and no stack traces', async () => {
    const { url } = await served();
    const cases: [string, string, number, string?][] = [
      ['not JSON', '{"jsonrpc": "2.0", "method": ', -32700],
      ['not an object', '42', -32600],
      ['no jsonrpc', JSON.stringify({ method: 'items', id: 1 }), -32600],
      ['wrong version', JSON.stringify({ jsonrpc: '1.0', method: 'items', id: 1 }), -32600],
      ['method not a string', JSON.stringify({ jsonrpc: '2.0', method: 7, id: 1 }), -32600],
      ['params a string', JSON.stringify({ jsonrpc: '2.0', method: 'items', params: 'x', id: 1 }), -32600],
      ['id an object', JSON.stringify({ jsonrpc: '2.0', method: 'items', id: {} }), -32600],
      ['empty batch', '[]', -32600],
      ['unknown method', rpc('drop'), -32601],
      ['constructor', rpc('constructor'), -32601],
      ['__proto__', rpc('__proto__'), -32601],
      ['init', rpc('init'), -32601],
      ['close', rpc('close'), -32601],
      ['sweep', rpc('sweep'), -32601],
      ['toString', rpc('toString'), -32601],
      ['hasOwnProperty', rpc('hasOwnProperty'), -32601],
      ['filters not an object', rpc('items', ['x']), -32602],
      ['too many params', rpc('items', [{}, {}, {}]), -32602],
      ['unknown named param', rpc('items', { filter: {} }), -32602],
      ['unknown page option', rpc('items', [{}, { limit: 3 }]), -32602],
      ['bad page', rpc('items', [{}, { start: 3, end: 1 }]), -32602, 'SNOOPY_OPTIONS_INVALID'],
      ['key not indexed', rpc('items', [{ name: 'A' }]), -32602, 'SNOOPY_FEED_FILTER'],
      ['fan-out', rpc('count', [{ kind: ['a', 'b', 'c'], user: [1, 2, 3] }]), -32602, 'SNOOPY_FEED_FANOUT'],
      ['event not an object', rpc('insert', ['A']), -32602],
      ['bad event field', rpc('insert', [{ name: 'x', user: { id: 1 } }]), -32602, 'SNOOPY_FEED_EVENT'],
    ];
    for (const [what, body, code, snoopyCode] of cases) {
      const res = await post(url, body);
      expect(res.status, what).toBe(200);
      expect(res.json.jsonrpc, what).toBe('2.0');
      expect(res.json.error?.code, what).toBe(code);
      expect(typeof res.json.error.message, what).toBe('string');
      if (snoopyCode !== undefined) expect(res.json.error.data?.code, what).toBe(snoopyCode);
      if (code === -32700 || what === 'not an object' || what === 'empty batch') expect(res.json.id, what).toBe(null);
      expect(res.text, what).not.toMatch(/stack|\n\s+at |\.ts:\d+/);
    }
  });

  it('answers a batch call by call, and nothing for notifications', async () => {
    const { url } = await served();
    const batch = [
      { jsonrpc: '2.0', method: 'insert', params: [{ name: 'A', kind: 'k' }, { at: 5 }], id: 'a' },
      { jsonrpc: '2.0', method: 'insert', params: { event: { name: 'B', kind: 'k' }, options: { at: 6 } } },
      { jsonrpc: '2.0', method: 'nope', id: 2 },
      { jsonrpc: '2.0', method: 'items', params: [{ user: 'x' }], id: 3 },
      7,
    ];
    const res = await post(url, JSON.stringify(batch));
    expect(res.status).toBe(200);
    const byId = new Map<unknown, any>(res.json.map((r: any) => [r.id, r]));
    expect(res.json).toHaveLength(4);
    expect(byId.get('a').result).toMatch(/^\d+$/);
    expect(byId.get(2).error.code).toBe(-32601);
    expect(byId.get(3).result).toEqual([]);
    expect(byId.get(null).error.code).toBe(-32600);
    // The notification was run: both events are there.
    const items = await post(url, rpc('items', [{ kind: 'k' }], 9));
    expect(items.json.result.map((e: Ev) => e.name)).toEqual(['B', 'A']);
    const onlyNotifications = await post(url, JSON.stringify([{ jsonrpc: '2.0', method: 'count' }]));
    expect(onlyNotifications.status).toBe(204);
    expect(onlyNotifications.text).toBe('');
    const tooMany = await post(url, JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', method: 'count', id: i }))));
    expect(tooMany.json.error.code).toBe(-32600);
  });

  it('refuses GET, oversized bodies and, with a token, requests without it', async () => {
    const { url } = await served({ token: 's3cret', maxBodyBytes: 1000 });
    expect((await fetch(url)).status).toBe(405);
    expect((await post(url, rpc('count'))).status).toBe(401);
    expect((await post(url, rpc('count'), { authorization: 'Bearer wrong!' })).status).toBe(401);
    const ok = await post(url, rpc('count'), { authorization: 'Bearer s3cret' });
    expect(ok.json.result).toBe(0);
    const big = await post(url, rpc('insert', [{ name: 'x'.repeat(2000) }]), { authorization: 'Bearer s3cret' });
    expect(big.status).toBe(413);

    expect(await feedClient<Ev>(url, { token: 's3cret' }).count()).toBe(0);
    const refused = await rejection(feedClient<Ev>(url).count());
    expect(refused).toBeInstanceOf(FeedRpcError);
    expect(refused).toMatchObject({ code: 'SNOOPY_FEED_RPC', status: 401, rpcCode: -32600, retriable: false });
  });

  it('reports remote feed errors and unreachable servers as SNOOPY_FEED_RPC', async () => {
    const { url } = await served();
    const client = feedClient<Ev>(url);
    const remote = await rejection(client.items({ name: 'A' } as never));
    expect(remote).toMatchObject({ code: 'SNOOPY_FEED_RPC', rpcCode: -32602, remoteCode: 'SNOOPY_FEED_FILTER', retriable: false });

    const server = await serveFeed(await openFeed<Ev>(level, { keys: ['kind'] }));
    const gone = feedClient<Ev>(server.url, { timeoutMs: 5000 });
    await server.close();
    await server.close();
    const unreachable = await rejection(gone.count());
    expect(unreachable).toMatchObject({ code: 'SNOOPY_FEED_RPC', rpcCode: undefined, retriable: true });

    const controller = new AbortController();
    controller.abort();
    expect((await rejection(client.count({}, { signal: controller.signal }))).code).toBe('SNOOPY_ABORTED');
  });

  it('validates its options', async () => {
    const f = await openFeed<Ev>(level, { keys: ['kind'] });
    for (const bad of [{ port: -1 }, { port: 70000 }, { token: '' }, { maxBatch: 0 }, { prot: 1 }] as ServeFeedOptions[]) {
      expect((await rejection(serveFeed(f, bad))).code).toBe('SNOOPY_OPTIONS_INVALID');
    }
    expect((await rejection(serveFeed({} as never))).code).toBe('SNOOPY_OPTIONS_INVALID');
    expect(() => feedClient('ftp://x')).toThrow(expect.objectContaining({ code: 'SNOOPY_OPTIONS_INVALID' }));
    expect(() => feedClient('http://127.0.0.1:1/', { timeout: 3 } as never)).toThrow(/Unknown feedClient option `timeout`/);
  });
});
