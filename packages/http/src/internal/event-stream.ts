import type http from 'node:http';
import type { KafkaMessage, Topic } from '@snoopy/kafka';
import type { Predicate } from '../filter.js';
import type { TailListener } from './tail.js';

/** @internal A position per partition: the next offset to send, or 'L' (live only, not yet seen). */
export type Cursor = Array<number | 'L'>;

export function formatCursor(c: Cursor): string {
  return c.join(',');
}

/** Parses a `Last-Event-ID`; undefined when it is not a cursor of `partitions` partitions. */
export function parseCursor(text: string, partitions: number): Cursor | undefined {
  const parts = text.trim().split(',');
  if (parts.length !== partitions) return undefined;
  const out: Cursor = [];
  for (const p of parts) {
    if (p === 'L') out.push('L');
    else if (/^\d{1,15}$/.test(p)) out.push(Number(p));
    else return undefined;
  }
  return out;
}

export interface EventStreamOptions {
  readonly format: 'sse' | 'ndjson';
  readonly filter: Predicate;
  readonly cursor: Cursor;
  readonly bufferBytes: number;
  readonly heartbeatMs: number;
  readonly onClose: (stream: EventStream) => void;
}

/**
 * @internal One client's live view of a topic: catches up from its cursor with group-less reads,
 * then takes the tail's messages; each message moves the cursor (filtered or not), so the `id`
 * of every sent event is where a reconnect resumes, with no gap and no duplicate.
 */
export class EventStream implements TailListener {
  readonly cursor: Cursor;
  /** The topic streamed, for metrics. */
  topic = '';
  #live = false;
  #closed = false;
  #buffered: KafkaMessage<unknown, string>[] = [];
  readonly #heartbeat: NodeJS.Timeout | undefined;
  readonly #abort = new AbortController();
  sent = 0;

  constructor(
    readonly res: http.ServerResponse,
    readonly jti: string,
    readonly options: EventStreamOptions,
  ) {
    this.cursor = [...options.cursor];
    res.writeHead(200, {
      'content-type': options.format === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    if (options.format === 'sse') {
      res.write(': connected\n\n');
      this.#heartbeat = setInterval(() => res.write(': heartbeat\n\n'), options.heartbeatMs);
    }
    res.on('close', () => this.#finish());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Reads each partition from its cursor to the current end, then goes live. */
  async catchUp(topic: Topic<unknown, string>): Promise<void> {
    try {
      for (let p = 0; p < this.cursor.length && !this.#closed; p++) {
        const start = this.cursor[p];
        if (start === 'L') continue;
        for await (const m of topic.read({ partition: p, start, signal: this.#abort.signal })) {
          if (this.#closed) break;
          this.#deliver(m);
        }
      }
    } catch (error) {
      if (!this.#closed) this.end('error', { reason: 'could not read the topic', code: (error as { code?: string }).code });
      return;
    }
    this.#live = true;
    const buffered = this.#buffered;
    this.#buffered = [];
    for (const m of buffered) this.#deliver(m);
  }

  offer(m: KafkaMessage<unknown, string>): void {
    if (this.#closed) return;
    if (!this.#live) {
      this.#buffered.push(m);
      if (this.#buffered.length > 100_000) this.end('cutoff', { reason: 'too many messages arrived while catching up; reconnect' });
      return;
    }
    this.#deliver(m);
  }

  #deliver(m: KafkaMessage<unknown, string>): void {
    if (this.#closed) return;
    const at = this.cursor[m.partition];
    if (at === undefined) return;
    if (at !== 'L' && m.offset < at) return; // already sent (catch-up and tail overlap)
    this.cursor[m.partition] = m.offset + 1;
    if (!this.options.filter(m.value)) return;
    const id = formatCursor(this.cursor);
    const data = JSON.stringify({ key: m.key, value: m.value, partition: m.partition, offset: m.offset, timestamp: m.timestamp });
    this.res.write(this.options.format === 'sse' ? `id: ${id}\ndata: ${data}\n\n` : `{"id":"${id}",${data.slice(1)}\n`);
    this.sent++;
    if (this.res.writableLength > this.options.bufferBytes) {
      this.end('cutoff', { reason: 'client too slow: more than the stream buffer unsent', resume: id });
    }
  }

  /** Sends a final event (`close`, `revoked`, `expired`, `cutoff`, `error`) and ends the response. */
  end(event: string, data: Record<string, unknown>): void {
    if (this.#closed) return;
    const json = JSON.stringify(data);
    if (!this.res.writableEnded && !this.res.destroyed) {
      this.res.end(this.options.format === 'sse' ? `event: ${event}\ndata: ${json}\n\n` : `{"event":"${event}",${json.slice(1)}\n`);
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#abort.abort();
    this.#buffered = [];
    this.options.onClose(this);
  }
}
