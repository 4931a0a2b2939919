import { ClosedError, FailedItem, SnoopyError, ack, deliver, describe, type Completion, type MessageMeta } from '@snoopy/core';
import { partitionForKey } from './partitioner.js';
import { resolveMemoryTopicOptions, type MemoryTopicOptions, type ResolvedMemoryTopicOptions } from './options.js';

/** One message as a consumer sees it: the shape of `@snoopy/kafka`'s `KafkaMessage`. */
export interface MemoryMessage<V = unknown, K = string> {
  readonly key: K | null;
  readonly value: V;
  readonly headers: Readonly<Record<string, Buffer>>;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number | undefined;
}

/** What `send()` accepts besides the value (as `@snoopy/kafka`'s `SendOptions`). */
export interface MemorySendOptions<K = string> {
  readonly key?: K | null;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
  /** @default the partition Kafka's default partitioner gives the key; round robin without a key */
  readonly partition?: number;
  /** @default the topic's clock */
  readonly timestamp?: number;
}

/** Where a message landed. */
export interface MemoryDelivery {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** An offset commit the topic made: `offset` is the next one to consume on `partition`. */
export interface MemoryCommit {
  readonly partition: number;
  readonly offset: number;
}

/**
 * An in-memory stand-in for `@snoopy/kafka`'s `Topic`: callable to produce (`await topic(value)`,
 * `await topic([key, value])`, `topic.send(value, { key, headers, partition })`), an async
 * iterable consumer (`{ key, value, headers, topic, partition, offset, timestamp }`), a deferred
 * sink and an acknowledging source for `stream()`, with partitions, offsets and commits of the
 * contiguous prefix of acknowledged messages per partition.
 */
export interface MemoryTopic<V = unknown, K = string> extends AsyncIterable<MemoryMessage<V, K> | FailedItem> {
  (input: V | readonly [K, V]): Promise<MemoryDelivery>;
  readonly name: string;
  readonly options: ResolvedMemoryTopicOptions<V>;
  send(value: V, options?: MemorySendOptions<K>): Promise<MemoryDelivery>;
  /** Appends bytes as they are, skipping the codec: a message a consumer cannot decode. */
  sendRaw(bytes: Buffer, options?: MemorySendOptions<K>): MemoryDelivery;
  /** Every message produced so far, in order of production (of one partition when given). */
  messages(partition?: number): MemoryMessage<V, K>[];
  /** The values produced so far, in order of production. */
  values(): V[];
  /** The next offset of `partition` after the last produced message. */
  end(partition: number): number;
  /** The committed offset of `partition` (the next one a new consumer reads), or undefined. */
  committed(partition: number): number | undefined;
  /** Every commit, in order. */
  readonly commits: readonly MemoryCommit[];
  [ack](item: MemoryMessage<V, K> | FailedItem): void;
  [describe](item: MemoryMessage<V, K> | FailedItem): MessageMeta;
  [deliver](input: V | readonly [K, V], completion: Completion): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Stored<K> {
  readonly key: K | null;
  readonly payload: unknown;
  readonly raw: boolean;
  readonly headers: Readonly<Record<string, Buffer>>;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

class State<V, K> {
  readonly log: Stored<K>[] = [];
  readonly ends: number[];
  readonly committedAt: (number | undefined)[];
  readonly acked: Set<number>[];
  readonly commits: MemoryCommit[] = [];
  closed = false;
  roundRobin = 0;
  wake: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly options: ResolvedMemoryTopicOptions<V>,
  ) {
    this.ends = new Array<number>(options.partitions).fill(0);
    this.committedAt = new Array<number | undefined>(options.partitions).fill(undefined);
    this.acked = Array.from({ length: options.partitions }, () => new Set<number>());
  }

  append(payload: unknown, raw: boolean, o: MemorySendOptions<K>): MemoryDelivery {
    if (this.closed) throw new ClosedError(`MemoryTopic ${this.name}`);
    const key = o.key ?? null;
    let partition = o.partition;
    if (partition === undefined) {
      partition = key === null ? this.roundRobin++ % this.options.partitions : partitionForKey(Buffer.from(typeof key === 'string' ? key : JSON.stringify(key)), this.options.partitions);
    } else if (!Number.isInteger(partition) || partition < 0 || partition >= this.options.partitions) {
      throw new SnoopyError('SNOOPY_OPTIONS_INVALID', `MemoryTopic ${this.name}: Expected \`partition\` to be an integer from 0 to ${this.options.partitions - 1}, got ${String(partition)}`);
    }
    const headers: Record<string, Buffer> = {};
    for (const [name, value] of Object.entries(o.headers ?? {})) headers[name] = Buffer.isBuffer(value) ? Buffer.from(value) : Buffer.from(String(value));
    const offset = this.ends[partition]!++;
    const stored = raw ? payload : this.options.codec ? this.options.codec.encode(payload as V) : structuredClone(payload);
    this.log.push({ key, payload: stored, raw, headers, partition, offset, timestamp: o.timestamp ?? this.options.clock() });
    this.wake?.();
    return { topic: this.name, partition, offset };
  }

  read(s: Stored<K>): MemoryMessage<V, K> | FailedItem {
    const meta = { topic: this.name, partition: s.partition, offset: s.offset, key: s.key };
    let value: unknown = s.payload;
    const codec = this.options.codec;
    if (codec || s.raw) {
      try {
        if (!codec) throw new Error('the topic has no codec to decode raw bytes with');
        value = codec.decode(s.payload as Buffer);
      } catch (err) {
        const error = new SnoopyError('SNOOPY_CODEC_DECODE', `MemoryTopic ${this.name}: message does not decode`, { cause: err, location: meta });
        return new FailedItem(error, { ...meta, timestamp: s.timestamp, headers: s.headers }, s.payload);
      }
    } else {
      value = structuredClone(value);
    }
    return { key: s.key, value: value as V, headers: s.headers, topic: this.name, partition: s.partition, offset: s.offset, timestamp: s.timestamp };
  }

  ack(partition: number, offset: number): void {
    const next = this.committedAt[partition];
    if (next === undefined || offset < next) return;
    const done = this.acked[partition]!;
    done.add(offset);
    let at = next;
    while (done.delete(at)) at += 1;
    if (at !== next) {
      this.committedAt[partition] = at;
      this.commits.push({ partition, offset: at });
    }
  }

  async *consume(): AsyncGenerator<MemoryMessage<V, K> | FailedItem> {
    // Start where the last consumer committed, else at the configured end.
    for (let p = 0; p < this.options.partitions; p++) {
      this.committedAt[p] ??= this.options.offset === 'earliest' ? 0 : this.ends[p]!;
      this.acked[p]!.clear();
    }
    const start = [...this.committedAt] as number[];
    let i = 0;
    while (!this.closed) {
      if (i < this.log.length) {
        const s = this.log[i++]!;
        if (s.offset >= start[s.partition]!) yield this.read(s);
        continue;
      }
      if (!this.options.follow) return;
      await new Promise<void>((resolve) => { this.wake = resolve; });
      this.wake = undefined;
    }
  }
}

function isPair(input: unknown): input is readonly [unknown, unknown] {
  return Array.isArray(input) && input.length === 2;
}

/** Makes a MemoryTopic; with or without `new`. */
export function MemoryTopic<V = unknown, K = string>(name: string, options?: MemoryTopicOptions<V>): MemoryTopic<V, K> {
  const state = new State<V, K>(name, resolveMemoryTopicOptions(name, options));
  const produce = (value: V, o: MemorySendOptions<K> = {}): Promise<MemoryDelivery> => {
    try {
      return Promise.resolve(state.append(value, false, o));
    } catch (err) {
      return Promise.reject(err);
    }
  };
  const topic = ((input: V | readonly [K, V]) => (isPair(input) ? produce(input[1] as V, { key: input[0] as K }) : produce(input as V))) as MemoryTopic<V, K>;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= Promise.resolve().then(() => {
      state.closed = true;
      state.wake?.();
    });
    return closing;
  };
  const locate = (item: MemoryMessage<V, K> | FailedItem): { partition: number; offset: number } => {
    const where = item instanceof FailedItem ? item.meta : item;
    return { partition: Number(where.partition), offset: Number(where.offset) };
  };
  Object.defineProperties(topic, {
    name: { value: name },
    options: { value: state.options },
    commits: { get: () => [...state.commits] },
  });
  Object.assign(topic, {
    send: produce,
    sendRaw: (bytes: Buffer, o: MemorySendOptions<K> = {}) => state.append(Buffer.from(bytes), true, o),
    messages: (partition?: number) =>
      state.log.filter((s) => partition === undefined || s.partition === partition).map((s) => state.read(s)).filter((m): m is MemoryMessage<V, K> => !(m instanceof FailedItem)),
    values: () => topic.messages().map((m) => m.value),
    end: (partition: number) => state.ends[partition] ?? 0,
    committed: (partition: number) => state.commits.findLast((c) => c.partition === partition)?.offset,
    close,
    [Symbol.asyncDispose]: close,
    [Symbol.asyncIterator]: () => state.consume(),
    [ack]: (item: MemoryMessage<V, K> | FailedItem) => {
      const { partition, offset } = locate(item);
      state.ack(partition, offset);
    },
    [describe]: (item: MemoryMessage<V, K> | FailedItem): MessageMeta => {
      if (item instanceof FailedItem) return item.meta;
      return { key: item.key, topic: item.topic, partition: item.partition, offset: item.offset, timestamp: item.timestamp, headers: item.headers };
    },
    [deliver]: (input: V | readonly [K, V], completion: Completion) => {
      try {
        if (isPair(input)) state.append(input[1], false, { key: input[0] as K });
        else state.append(input, false, {});
        completion.done();
      } catch (err) {
        completion.fail(err);
      }
    },
  });
  return topic;
}
