import type { Message as NativeMessage } from '@confluentinc/kafka-javascript';
import type { Completion, ErrorCode, Logger } from '@snoopy/core';
import type { KafkaHeaders } from './message.js';
import type { PartitionOffsets } from './offsets.js';
import type { TopicProducer } from './producer.js';

/** What the dead-letter writer reports back to its consumer. */
export interface DeadLetterEvents {
  /** The dead letter is durable: its source message counts as done. */
  delivered(tracker: PartitionOffsets, offset: number): void;
  /** It could not be written: the consumer stops (the message must not be skipped silently). */
  failed(error: unknown): void;
}

/**
 * @internal Writes messages that did not decode to the `deadLetter` topic, with their original
 * key, value and headers and `snoopy.error.*` / `snoopy.source.*` headers. The source message is
 * acknowledged by the dead letter's delivery report, so its offset is committed only once the
 * dead letter is durable.
 */
export class DeadLetters {
  /** Dead letters produced and not yet delivered. */
  pending = 0;

  constructor(
    private readonly topic: string,
    private readonly producer: () => TopicProducer,
    private readonly log: Logger,
    private readonly events: DeadLetterEvents,
  ) {}

  send(tracker: PartitionOffsets, m: NativeMessage, code: ErrorCode, message: string, headers: KafkaHeaders): void {
    const out: Array<Record<string, string | Buffer>> = [];
    for (const k in headers) out.push({ [k]: headers[k]! });
    out.push(
      { 'snoopy.error.code': code },
      { 'snoopy.error.message': message },
      { 'snoopy.source.topic': m.topic },
      { 'snoopy.source.partition': String(m.partition) },
      { 'snoopy.source.offset': String(m.offset) },
    );
    this.pending++;
    const completion: Completion = {
      done: () => {
        this.pending--;
        this.events.delivered(tracker, m.offset);
      },
      fail: (error: unknown) => {
        this.pending--;
        this.events.failed(error);
      },
    };
    const key = m.key === undefined || m.key === null ? null : typeof m.key === 'string' ? Buffer.from(m.key) : m.key;
    try {
      void this.producer().produce(this.topic, null, m.value, key, null, out, completion);
    } catch (error) {
      completion.fail(error);
      return;
    }
    this.log.debug({ partition: m.partition, offset: m.offset, code, deadLetter: this.topic }, 'undecodable message dead-lettered');
  }

  /** Lets the dead letters in flight land (bounded). */
  async settle(timeoutMs: number, waitUntil: (check: () => boolean, timeoutMs: number) => Promise<boolean>): Promise<void> {
    if (this.pending === 0) return;
    void this.producer().flush(timeoutMs);
    await waitUntil(() => this.pending === 0, timeoutMs);
  }
}
