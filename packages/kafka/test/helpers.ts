import { onTestFinished } from 'vitest';
import { ack, FailedItem, type Completion } from '@snoopy/core';
import { bootstrapServers, randomName } from '../../../test/setup/kafka-helpers.js';
import type { KafkaMessage, Topic } from '../src/index.js';

export { bootstrapServers, randomName };

/** Closes the topic when the test finishes. */
export function closing<T extends { close(): Promise<void> }>(topic: T): T {
  onTestFinished(() => topic.close());
  return topic;
}

/**
 * Reads `n` items from a topic as core would, acknowledging each one (FailedItems too) unless
 * `acknowledge` says otherwise, then stops the iterator (which commits and leaves the group).
 */
export async function take<V, K>(
  topic: Topic<V, K>,
  n: number,
  acknowledge: (item: KafkaMessage<V, K> | FailedItem, index: number) => boolean = () => true,
): Promise<Array<KafkaMessage<V, K> | FailedItem>> {
  const out: Array<KafkaMessage<V, K> | FailedItem> = [];
  const it = topic[Symbol.asyncIterator]();
  try {
    while (out.length < n) {
      const r = await it.next();
      if (r.done) break;
      const item = r.value as KafkaMessage<V, K> | FailedItem;
      if (acknowledge(item, out.length)) topic[ack](item);
      out.push(item);
    }
  } finally {
    await it.return?.();
  }
  return out;
}

/** A completion that counts. */
export function counter(): Completion & { done_: number; failed: unknown[]; all(n: number): Promise<void> } {
  let waiter: { n: number; resolve: () => void } | undefined;
  const c = {
    done_: 0,
    failed: [] as unknown[],
    done() {
      c.done_++;
      if (waiter && c.done_ + c.failed.length >= waiter.n) waiter.resolve();
    },
    fail(e: unknown) {
      c.failed.push(e);
      if (waiter && c.done_ + c.failed.length >= waiter.n) waiter.resolve();
    },
    all(n: number) {
      if (c.done_ + c.failed.length >= n) return Promise.resolve();
      return new Promise<void>((resolve) => (waiter = { n, resolve }));
    },
  };
  return c;
}
