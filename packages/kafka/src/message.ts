import { FailedItem, type MessageMeta } from '@snoopy/core';
import type { PartitionOffsets } from './offsets.js';

/** Header values as they come off the wire. */
export type KafkaHeaders = Readonly<Record<string, Buffer>>;

/** One consumed message, key and value decoded. */
export interface KafkaMessage<V = unknown, K = string> {
  /** The decoded key, or `null` when the message has none. */
  readonly key: K | null;
  /** The decoded value; `null` for a tombstone (a message without a value). */
  readonly value: V;
  readonly headers: KafkaHeaders;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Milliseconds since the epoch, as set by the producer or the broker. */
  readonly timestamp: number | undefined;
}

/** What `topic.send()` accepts besides the value. */
export interface SendOptions<K = string> {
  readonly key?: K | null;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
  /** Partition to write to. @default the `murmur2_random` partitioner's choice */
  readonly partition?: number;
  /** Milliseconds since the epoch. @default now */
  readonly timestamp?: number;
}

/** Where a produced message landed, from its delivery report. */
export interface Delivery {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** @internal A consumed message that remembers which partition tracker acknowledges it. */
export class ConsumedMessage<V, K> implements KafkaMessage<V, K> {
  readonly #tracker: PartitionOffsets;
  constructor(
    tracker: PartitionOffsets,
    readonly key: K | null,
    readonly value: V,
    readonly headers: KafkaHeaders,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number | undefined,
  ) {
    this.#tracker = tracker;
  }

  /** Acknowledges `item` to the partition it came from: one call, no lookup. */
  static ack(item: ConsumedMessage<unknown, unknown>): void {
    item.#tracker.ack(item.offset);
  }
}

/** @internal A message that failed to decode, yielded in its place; acknowledged like a message. */
export class UndecodableMessage extends FailedItem {
  readonly #tracker: PartitionOffsets;
  readonly offset: number;
  constructor(tracker: PartitionOffsets, offset: number, error: unknown, meta: MessageMeta, raw: unknown) {
    super(error, meta, raw);
    this.#tracker = tracker;
    this.offset = offset;
  }

  /** Acknowledges `item` to the partition it came from. */
  static ack(item: UndecodableMessage): void {
    item.#tracker.ack(item.offset);
  }
}

/** @internal `Topic[ack]`: items this package handed out carry their own acknowledgement. */
export function acknowledge(item: unknown): void {
  if (item instanceof ConsumedMessage) ConsumedMessage.ack(item);
  else if (item instanceof UndecodableMessage) UndecodableMessage.ack(item);
}

const noHeaders: KafkaHeaders = Object.freeze({});

/** @internal Headers as librdkafka hands them over (a list of one-key objects) to a record. */
export function headersFromNative(list: ReadonlyArray<Readonly<Record<string, string | Buffer>>> | undefined): KafkaHeaders {
  // Most messages have none: share one frozen record rather than keep an empty one per message.
  if (!list || list.length === 0) return noHeaders;
  const out: Record<string, Buffer> = {};
  for (const h of list) {
    for (const k in h) {
      const v = h[k]!;
      out[k] = typeof v === 'string' ? Buffer.from(v) : v;
    }
  }
  return out;
}

/** @internal A header record to librdkafka's list form. */
export function headersToNative(headers: Readonly<Record<string, string | Buffer>> | undefined): Array<Record<string, string | Buffer>> | undefined {
  if (!headers) return undefined;
  const out: Array<Record<string, string | Buffer>> = [];
  for (const k in headers) out.push({ [k]: headers[k]! });
  return out;
}
