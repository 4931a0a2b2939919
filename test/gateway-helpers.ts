// Shared by the gateway suites: a gateway on a fresh topic and data directory, and an SSE/NDJSON
// client that parses events off a fetch body.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway, type GatewayOptions } from '../packages/http/src/index.js';

export const adminToken = 'admin-' + randomBytes(16).toString('hex');
export const grantKey = { kid: 'k1', secret: randomBytes(32).toString('base64url') };

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'snoopy-gateway-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function gatewayOptions(servers: string, topics: GatewayOptions['topics'], dataDir: string, extra: Partial<GatewayOptions> = {}): GatewayOptions {
  return { kafka: { 'bootstrap.servers': servers }, topics, keys: [grantKey], adminToken, dataDir, port: 0, allowPrivateWebhooks: true, heartbeatMs: 1000, ...extra };
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  return Gateway.start(options);
}

export interface StreamEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

/** Opens a stream and collects its events until `close()` or the server ends it. */
export function openStream(url: string, headers: Record<string, string>) {
  const events: StreamEvent[] = [];
  const abort = new AbortController();
  let status = 0;
  let ended = false;
  const ndjson = (headers.accept ?? '').includes('ndjson');
  const done = (async () => {
    const res = await fetch(url, { headers, signal: abort.signal });
    status = res.status;
    if (!res.ok || !res.body) {
      events.push({ event: 'http', data: { status: res.status, body: await res.text() } });
      ended = true;
      return;
    }
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        const sep = ndjson ? '\n' : '\n\n';
        let i: number;
        while ((i = buf.indexOf(sep)) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + sep.length);
          if (ndjson) {
            if (!block.trim()) continue;
            const obj = JSON.parse(block) as Record<string, unknown>;
            events.push({ event: typeof obj.event === 'string' ? obj.event : 'message', id: obj.id as string | undefined, data: obj });
            continue;
          }
          let event = 'message';
          let id: string | undefined;
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) events.push({ event, id, data: JSON.parse(data) });
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    ended = true;
  })();
  return {
    events,
    get status() {
      return status;
    },
    get ended() {
      return ended;
    },
    messages: () => events.filter((e) => e.event === 'message'),
    async close() {
      abort.abort();
      await done.catch(() => {});
    },
    done,
  };
}

export async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
