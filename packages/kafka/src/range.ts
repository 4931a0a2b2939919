import kafka from '@confluentinc/kafka-javascript';
import type { KafkaConsumer as NativeConsumer, Message as NativeMessage } from '@confluentinc/kafka-javascript';
import { OptionsError, SnoopyError, describeValue } from '@snoopy/core';
import { randomUUID } from 'node:crypto';
import { bootstrapOf, consumerSettings, splitTopicLevel, type KafkaConfig } from './conf.js';
import { wrapNative } from './errors.js';
import { headersFromNative, type KafkaMessage } from './message.js';
import type { ResolvedTopicOptions } from './options.js';

/** A range of offsets of one partition; `end` is exclusive. */
export interface OffsetRange {
  readonly partition: number;
  /** First offset to read. @default 0 */
  readonly start?: number;
  /** Offset to stop before; capped at the end of the partition when reading starts. @default that end */
  readonly end?: number;
  /** Aborting it ends the read. */
  readonly signal?: AbortSignal;
}

function int(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new OptionsError(`topic.read: Expected \`${field}\` to be an integer >= ${min}, got ${describeValue(value)}`);
  }
  return value;
}

/** @internal Checks a range at the call, before anything connects. */
export function checkRange(range: OffsetRange): { partition: number; start: number; end: number | undefined; signal: AbortSignal | undefined } {
  if (range === null || typeof range !== 'object') throw new OptionsError(`topic.read: Expected a range { partition, start?, end? }, got ${describeValue(range)}`);
  const partition = int('partition', range.partition, 0);
  const start = range.start === undefined ? 0 : int('start', range.start, 0);
  const end = range.end === undefined ? undefined : int('end', range.end, start);
  if (range.signal !== undefined && !(range.signal instanceof AbortSignal)) {
    throw new OptionsError(`topic.read: Expected \`signal\` to be an AbortSignal, got ${describeValue(range.signal)}`);
  }
  return { partition, start, end, signal: range.signal };
}

function consumeBatch(native: NativeConsumer, n: number): Promise<NativeMessage[]> {
  return new Promise((resolve, reject) => native.consume(n, (err, messages) => (err ? reject(err) : resolve(messages))));
}

/**
 * @internal Reads `[start, end)` of one partition with a group-less assigned consumer that commits
 * nothing. Without `end`, reads up to the partition's end as it is when reading starts.
 */
export async function* readRange<V, K>(
  name: string,
  config: KafkaConfig,
  options: ResolvedTopicOptions<V, K>,
  range: ReturnType<typeof checkRange>,
): AsyncGenerator<KafkaMessage<V, K>, void, undefined> {
  const { partition, start, signal } = range;
  let end = range.end;
  if (end === start || signal?.aborted) return;
  const settings = {
    ...consumerSettings(config),
    'group.id': `snoopy-read-${randomUUID()}`,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'enable.partition.eof': false,
  };
  const [globalConf, topicConf] = splitTopicLevel(settings);
  const native = new kafka.KafkaConsumer(globalConf as never, topicConf as never);
  const timeoutMs = options.connectTimeoutMs;
  try {
    await new Promise<void>((resolve, reject) => {
      native.connect({ timeout: timeoutMs }, (err) =>
        err ? reject(wrapNative('SNOOPY_KAFKA_CONNECT', `Could not reach the Kafka brokers at ${bootstrapOf(config)} within ${timeoutMs} ms`, err)) : resolve(),
      );
    });
    const high = await new Promise<number>((resolve, reject) =>
      native.queryWatermarkOffsets(name, partition, timeoutMs, (err, offsets) =>
        err ? reject(wrapNative('SNOOPY_KAFKA_CONSUME', `Could not read the offsets of topic ${name} partition ${partition}`, err, { topic: name, partition })) : resolve(offsets.highOffset),
      ),
    );
    end = Math.min(end ?? high, high);
    if (start >= end) return;
    native.setDefaultConsumeTimeout(100);
    native.assign([{ topic: name, partition, offset: start }]);
    for (;;) {
      if (signal?.aborted) return;
      const batch = await consumeBatch(native, 500).catch((err: unknown) => {
        throw wrapNative('SNOOPY_KAFKA_CONSUME', `Could not read topic ${name} partition ${partition}`, err, { topic: name, partition });
      });
      for (const m of batch) {
        if (m.offset >= end) return;
        let key: K | null;
        let value: V;
        try {
          key = m.key === null || m.key === undefined ? null : options.keyCodec.decode(typeof m.key === 'string' ? Buffer.from(m.key) : m.key);
          value = m.value === null ? (null as V) : options.codec.decode(m.value);
        } catch (cause) {
          throw new SnoopyError('SNOOPY_CODEC_DECODE', `Could not decode a message: ${cause instanceof Error ? cause.message : String(cause)}`, {
            cause,
            location: { topic: m.topic, partition: m.partition, offset: m.offset },
          });
        }
        yield { key, value, headers: headersFromNative(m.headers), topic: m.topic, partition: m.partition, offset: m.offset, timestamp: m.timestamp };
        if (m.offset + 1 >= end) return;
      }
      if (batch.length === 0) {
        // Transaction markers and compacted-away offsets leave gaps: the position tells.
        const [position] = native.position([{ topic: name, partition }]);
        if (position && position.offset >= end) return;
      }
    }
  } finally {
    await new Promise<void>((resolve) => native.disconnect(() => resolve()));
  }
}

