import type { Delivery, Topic } from '@snoopy/kafka';

/** What `publisher(topic)` sends with a value. */
export interface PublishOptions {
  readonly key?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The publish endpoint without HTTP: `await pub.send(value, { key })` resolves once the broker acknowledged it. */
export interface Publisher<V = unknown> {
  readonly topic: string;
  send(value: V, options?: PublishOptions): Promise<Delivery>;
  sendMany(events: readonly { readonly value: V; readonly key?: string | null; readonly headers?: Readonly<Record<string, string>> }[]): Promise<Delivery[]>;
}

/** A publisher on a Kafka `Topic` (the caller's: closing it stays the caller's job). */
export function publisher<V = unknown>(topic: Topic<V, string>, name = (topic as unknown as { topicName?: string }).topicName ?? 'topic'): Publisher<V> {
  return {
    topic: name,
    send: (value, options = {}) => topic.send(value, { key: options.key ?? null, headers: options.headers }),
    sendMany: (events) => Promise.all(events.map((e) => topic.send(e.value, { key: e.key ?? null, headers: e.headers }))),
  };
}
