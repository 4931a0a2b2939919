import { OptionsError, describeValue } from '@snoopy/core';

/** A value codec for a MemoryTopic: values are stored encoded and decoded when read, as Kafka does. */
export interface MemoryCodec<V> {
  encode(value: V): Buffer;
  decode(bytes: Buffer): V;
}

export interface MemoryTopicOptions<V> {
  /** Partitions; keyed messages land where Kafka's default partitioner puts them. @default 1 */
  readonly partitions?: number;
  /** Where a consumer with no committed offset starts. @default 'earliest' */
  readonly offset?: 'earliest' | 'latest';
  /**
   * Keep iterating and wait for new messages once caught up (as a Kafka consumer does), until
   * `close()` or the iteration is broken off. Off: iteration ends when caught up, so
   * `stream()` over the topic finishes. @default false
   */
  readonly follow?: boolean;
  /**
   * Store values encoded and decode them when read (any `@snoopy/codecs` codec fits); a message
   * that does not decode is yielded as a `FailedItem` with `SNOOPY_CODEC_DECODE`, like a real
   * Topic. @default undefined (values are stored as structured clones)
   */
  readonly codec?: MemoryCodec<V>;
  /** Timestamps of produced messages. @default Date.now */
  readonly clock?: () => number;
}

export interface ResolvedMemoryTopicOptions<V> {
  readonly partitions: number;
  readonly offset: 'earliest' | 'latest';
  readonly follow: boolean;
  readonly codec: MemoryCodec<V> | undefined;
  readonly clock: () => number;
}

export const memoryTopicDefaults = Object.freeze({ partitions: 1, offset: 'earliest', follow: false, clock: () => Date.now() });

const known = new Set(['partitions', 'offset', 'follow', 'codec', 'clock']);

export function resolveMemoryTopicOptions<V>(name: unknown, options: MemoryTopicOptions<V> | undefined): ResolvedMemoryTopicOptions<V> {
  const where = `MemoryTopic ${String(name)}`;
  if (typeof name !== 'string' || name === '') throw new OptionsError(`MemoryTopic: Expected \`name\` to be a non-empty string, got ${describeValue(name)}`);
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new OptionsError(`${where}: Expected \`options\` to be an object, got ${describeValue(o)}`);
  for (const key of Object.keys(o)) {
    if (!known.has(key)) throw new OptionsError(`${where}: Unknown option \`${key}\` (known: ${[...known].join(', ')})`);
  }
  const partitions = o.partitions ?? memoryTopicDefaults.partitions;
  if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) {
    throw new OptionsError(`${where}: Expected \`partitions\` to be an integer >= 1, got ${describeValue(partitions)}`);
  }
  const offset = o.offset ?? 'earliest';
  if (offset !== 'earliest' && offset !== 'latest') throw new OptionsError(`${where}: Expected \`offset\` to be 'earliest' or 'latest', got ${describeValue(offset)}`);
  const follow = o.follow ?? false;
  if (typeof follow !== 'boolean') throw new OptionsError(`${where}: Expected \`follow\` to be a boolean, got ${describeValue(follow)}`);
  if (o.codec !== undefined && (typeof o.codec?.encode !== 'function' || typeof o.codec?.decode !== 'function')) {
    throw new OptionsError(`${where}: Expected \`codec\` to have encode() and decode(), got ${describeValue(o.codec)}`);
  }
  const clock = o.clock ?? memoryTopicDefaults.clock;
  if (typeof clock !== 'function') throw new OptionsError(`${where}: Expected \`clock\` to be a function, got ${describeValue(clock)}`);
  return Object.freeze({ partitions, offset, follow, codec: o.codec, clock });
}
