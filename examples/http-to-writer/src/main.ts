// A DataSource that pages through an HTTP API (with a cursor, and a rate limit that sometimes
// answers 429) into a buffered writer that POSTs NDJSON batches to a second HTTP server (which
// sometimes answers 503). Both servers are started here, on 127.0.0.1.
//
//   npx tsc -b examples/http-to-writer && node examples/http-to-writer/dist/main.js
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { snap, stream } from '@snoopy/core';
import { bufferedWriter, DataSource } from '@snoopy/connect';

const TOTAL = Number(process.env.ITEMS ?? 250);

interface Item {
  readonly id: number;
  readonly name: string;
}

// --- the API we read from: GET /items?cursor=<id>&limit=<n>, every third request rate-limited ---
let apiRequests = 0;
let rateLimited = 0;
function api(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== '/items') return void res.writeHead(404).end();
  if (++apiRequests % 3 === 0) {
    rateLimited++;
    return void res.writeHead(429, { 'retry-after': '0' }).end('slow down');
  }
  const from = Number(url.searchParams.get('cursor') ?? 0);
  const limit = Math.min(Number(url.searchParams.get('limit') ?? 20), 20);
  const items: Item[] = [];
  for (let id = from; id < Math.min(from + limit, TOTAL); id++) items.push({ id, name: `item-${id}` });
  const next = from + items.length < TOTAL ? from + items.length : null;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, next, total: TOTAL }));
}

// --- the server we write to: POST /batches with an NDJSON body, every fourth POST answers 503 ---
const received: Item[] = [];
let posts = 0;
let unavailable = 0;
let batches = 0;
function sink(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (++posts % 4 === 0) {
      unavailable++;
      return void res.writeHead(503).end();
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    for (const line of lines) received.push(JSON.parse(line) as Item);
    batches++;
    res.writeHead(204).end();
  });
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** An HTTP status as an error a writer or source can act on: 429 and 5xx are worth retrying. */
function httpError(status: number, what: string): Error {
  return Object.assign(new Error(`${what} answered ${status}`), { retriable: status === 429 || status >= 500 });
}

class ItemsApi extends DataSource<Item, { baseUrl: string; pageSize?: number }, number> {
  static override params = [
    { name: 'baseUrl', title: 'API base URL', type: 'text', required: true },
    { name: 'pageSize', title: 'Page size', type: 'number' },
  ] as const;

  private finished = false;

  protected override async read(n: number): Promise<Item[] | null> {
    if (this.finished) return null;
    const cursor = this.checkpoint ?? 0;
    const limit = Math.min(n, this.params.pageSize ?? 20);
    const res = await fetch(`${this.params.baseUrl}/items?cursor=${cursor}&limit=${limit}`);
    if (!res.ok) throw httpError(res.status, 'GET /items');
    const page = (await res.json()) as { items: Item[]; next: number | null; total: number };
    if (page.next === null) this.finished = true;
    else this.state(page.next);
    this.progress(cursor + page.items.length, page.total, `cursor ${cursor}`);
    return page.items;
  }
}

const apiServer = await listen(api);
const sinkServer = await listen(sink);
try {
  const source = new ItemsApi({ baseUrl: apiServer.url, pageSize: 20 }, { attempts: 5, backoffMs: 10 });
  const writer = bufferedWriter<Item>(
    async (batch, { signal }) => {
      const res = await fetch(`${sinkServer.url}/batches`, { method: 'POST', body: batch.body, headers: { 'content-type': 'application/x-ndjson' }, signal });
      if (!res.ok) throw httpError(res.status, 'POST /batches');
    },
    { maxRecords: 40, maxBytes: 4096, maxDelayMs: 200, attempts: 5, backoffMs: 10 },
  );
  let retries = 0;
  writer.on('retry', () => retries++);

  snap(source, { sink: writer, name: 'copy' })((item: Item) => item);
  const summary = await stream();

  const ids = new Set(received.map((i) => i.id));
  const inOrder = received.every((item, i) => item.id === i);
  console.log(`read ${summary.in} items from the API (${rateLimited} answers were 429)`);
  console.log(`sink received ${ids.size} of ${TOTAL} items, ${received.length === ids.size ? 'none twice' : 'some twice'}, ${inOrder ? 'in order' : 'out of order'}`);
  console.log(`${batches} batches of at most 40 records and 4096 bytes; ${unavailable} POSTs answered 503 and were retried (${retries} retries)`);
  console.log(`progress: ${source.lastReportedProgress.loaded}/${source.lastReportedProgress.total}`);
} finally {
  apiServer.server.close();
  sinkServer.server.close();
}
