// A real HTTP receiver on 127.0.0.1 port 0 for the webhook tests: records every request and
// answers with what `reply` says (status, headers, or a hang until `release()`).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Do not answer at all (the client's timeout must fire). */
  readonly hang?: boolean;
}

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly requests: Received[];
  reply: (r: Received, index: number) => Reply | Promise<Reply>;
  /** Resolves once `check()` holds; fails after `ms` with `what`. */
  until(check: () => boolean, what: string, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(reply: Receiver['reply'] = () => ({ status: 204 }), port = 0): Promise<Receiver> {
  const requests: Received[] = [];
  const hung = new Set<http.ServerResponse>();
  const state = { reply };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const r: Received = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      requests.push(r);
      const out = await state.reply(r, requests.length - 1);
      if (out.hang) {
        hung.add(res);
        return;
      }
      res.writeHead(out.status, out.headers ?? {});
      res.end(out.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    port: address.port,
    requests,
    get reply() {
      return state.reply;
    },
    set reply(f) {
      state.reply = f;
    },
    async until(check, what, ms = 30_000) {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what} (${requests.length} requests so far)`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` every 10 ms until it holds, failing with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
