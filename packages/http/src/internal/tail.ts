import { ack, type Logger } from '@snoopy/core';
import { Topic, type KafkaConfig, type KafkaMessage } from '@snoopy/kafka';
import { randomUUID } from 'node:crypto';

/** @internal Someone who receives every message of a topic as it arrives. */
export interface TailListener {
  offer(message: KafkaMessage<unknown, string>): void;
}

/**
 * @internal One live consumer per topic that fans every message out to the open streams (each
 * stream filters and keeps its own position). Its own group, starting at the end, commits nothing
 * that matters: streams resume from their `Last-Event-ID`, not from the group.
 */
export class Tail {
  readonly listeners = new Set<TailListener>();
  readonly #topic: Topic<unknown, string>;
  readonly #iterator: AsyncIterator<KafkaMessage<unknown, string>>;
  readonly #loop: Promise<void>;
  #stopped = false;
  /** Next offset per partition the tail has seen. */
  readonly next = new Map<number, number>();
  received = 0;

  constructor(
    readonly name: string,
    config: KafkaConfig,
    private readonly logger: Logger,
  ) {
    this.#topic = Topic<unknown, string>(name, { ...config, 'group.id': `snoopy-gateway-tail-${randomUUID()}` }, { offset: 'latest', commitIntervalMs: 60_000 });
    this.#iterator = this.#topic[Symbol.asyncIterator]();
    this.#loop = this.#run();
  }

  get assigned(): boolean {
    return this.#topic.stats.assigned > 0;
  }

  async #run(): Promise<void> {
    try {
      while (!this.#stopped) {
        const r = await this.#iterator.next();
        if (r.done) return;
        const m = r.value;
        this.received++;
        this.next.set(m.partition, m.offset + 1);
        for (const l of this.listeners) l.offer(m);
        this.#topic[ack](m);
      }
    } catch (error) {
      if (!this.#stopped) this.logger.error({ err: error, topic: this.name }, 'tail consumer failed');
    }
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#iterator.return?.();
    await this.#loop;
    await this.#topic.close();
  }
}
