import { Registry, type DeadLetter, type Logger } from '@snoopy/core';
import { Topic, type KafkaConfig, type KafkaMessage } from '@snoopy/kafka';
import { compileFilter } from './filter.js';
import type { RetryOptions } from './options.js';
import { webhook, type WebhookSink, type WebhookStats } from './webhook.js';

/** A webhook subscription as stored: the events of `topic` that pass `where`, POSTed to `url`. */
export interface SubscriptionSpec {
  readonly topic: string;
  readonly url: string;
  /** A filter (the WHERE subset) on the event value. */
  readonly where?: string;
  /** The `whsec_` secret deliveries are signed with. */
  readonly secret: string;
  /** Where a new subscription starts reading its topic. @default 'latest' */
  readonly from?: 'earliest' | 'latest';
}

export interface SubscriptionRuntime {
  readonly kafka: KafkaConfig;
  readonly allowPrivate: boolean;
  readonly retry: RetryOptions | undefined;
  readonly logger: Logger;
  /** Receives each dead letter (the gateway's dead-letter topic), after it was logged and counted. */
  readonly deadLetter?: (name: string, letter: DeadLetter) => Promise<unknown>;
}

/**
 * A running subscription: its own consumer group (`snoopy-sub-<name>`) feeding a snap whose sink
 * is a webhook, so it is signed, retried, per-key ordered and acknowledged (committed) only after
 * a 2xx; deliveries that still fail are logged with their code and counted (`deadLettered`).
 * A slow or dead endpoint holds back only this subscription.
 */
export class Subscription {
  readonly sink: WebhookSink<KafkaMessage>;
  readonly source: Topic<unknown, string>;
  deadLettered = 0;
  readonly #abort = new AbortController();
  readonly #done: Promise<unknown>;
  #closing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly spec: SubscriptionSpec,
    runtime: SubscriptionRuntime,
  ) {
    const filter = spec.where === undefined ? () => true : compileFilter(spec.where);
    this.source = Topic<unknown, string>(spec.topic, { ...runtime.kafka, 'group.id': `snoopy-sub-${name}` }, { offset: spec.from ?? 'latest', commitIntervalMs: 500 });
    this.sink = webhook<KafkaMessage>(spec.url, { secrets: [spec.secret], allowPrivate: runtime.allowPrivate, ...(runtime.retry ? { retry: runtime.retry } : {}) });
    const logger = runtime.logger.child({ subscription: name });
    const registry = new Registry();
    registry.snap(this.source, {
      sink: this.sink,
      name: `subscription-${name}`,
      concurrency: 16,
      errors: {
        deadLetter: async (d: DeadLetter) => {
          this.deadLettered++;
          const e = d.error.cause as { code?: string; status?: number } | undefined;
          logger.warn({ code: e?.code ?? d.error.code, status: e?.status, topic: d.meta.topic, partition: d.meta.partition, offset: d.meta.offset }, 'delivery dead-lettered');
          await runtime.deadLetter?.(name, d);
        },
      },
    })((m: KafkaMessage) => (filter(m.value) ? m : undefined));
    this.#done = registry.stream({ signal: this.#abort.signal, handleSignals: false, progress: false, logger }).catch((error: unknown) => {
      if (!this.#abort.signal.aborted) logger.error({ err: error }, 'subscription stopped');
    });
  }

  get stats(): WebhookStats & { readonly deadLettered: number; readonly fetched: number; readonly acked: number } {
    const s = this.source.stats;
    return { ...this.sink.stats, deadLettered: this.deadLettered, fetched: s.fetched, acked: s.acked };
  }

  /** Stops consuming, finishes in-flight deliveries, commits, closes its consumer and connections. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      await this.#done;
    })();
    return this.#closing;
  }
}
