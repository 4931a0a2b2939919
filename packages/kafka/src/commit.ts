import type { KafkaConsumer as NativeConsumer, LibrdKafkaError, TopicPartitionOffset } from '@confluentinc/kafka-javascript';
import type { Logger } from '@snoopy/core';
import type { ConsumerStats } from './consumer.js';
import { KafkaError, nativeCodes, wrapNative } from './errors.js';
import type { PartitionOffsets } from './offsets.js';
import type { TopicProducer } from './producer.js';

/**
 * Commit durations are kept in whole milliseconds: every counter of a Topic's stats stays a
 * small integer, so the object keeps one shape. A fraction there once changed its shape
 * mid-run and sent every hot function that counts (consume, acknowledge, produce) back to the
 * interpreter to be compiled again.
 */
const wholeMs = (ms: number): number => Math.round(ms);

/** Consecutive failed offset commits after which the consumer fails with `SNOOPY_KAFKA_COMMIT`. */
export const COMMIT_ATTEMPTS = 5;

/** Longest wait for librdkafka's commit result (`offset_commit_cb`) before a commit counts as failed. */
const RESULT_TIMEOUT_MS = 60_000;

interface Awaiting {
  readonly offsets: readonly TopicPartitionOffset[];
  readonly settle: (error: LibrdKafkaError | Error | undefined) => void;
}

function sameOffsets(asked: readonly TopicPartitionOffset[], got: ReadonlyArray<{ partition: number; offset?: number }> | undefined): boolean {
  if (!got || got.length !== asked.length) return false;
  return asked.every((a) => got.some((g) => g.partition === a.partition && g.offset === a.offset));
}

/**
 * @internal At-least-once commits: the contiguous acknowledged prefix of each partition, one
 * commit at a time. A commit counts only when the broker accepted it: librdkafka's
 * `offset_commit_cb` carries the broker's answer (the binding's `commitCb` only says the request
 * was queued). A failed commit is counted (`stats.commitErrors`), logged once at warn with
 * `SNOOPY_KAFKA_COMMIT`, and retried by the next commit (the partitions stay dirty); after
 * COMMIT_ATTEMPTS failures in a row `commit()` rejects with `SNOOPY_KAFKA_COMMIT`. A refusal
 * because the group is rebalancing (illegal generation, rebalance in progress) is counted and
 * retried but logged at debug and not counted toward that limit: it is how rebalances go.
 */
export class OffsetCommitter {
  private running: Promise<void> | undefined;
  private awaiting: Awaiting | undefined;
  private failures = 0;

  constructor(
    private readonly native: NativeConsumer,
    private readonly topic: string,
    private readonly stats: ConsumerStats,
    private readonly log: Logger,
  ) {}

  /** librdkafka's commit result (the consumer's `offset_commit_cb`). */
  result(err: LibrdKafkaError | undefined | null, partitions: Array<{ partition: number; offset?: number }> | undefined): void {
    const awaiting = this.awaiting;
    if (awaiting === undefined) return;
    // An error may come without the partitions it was about; a success always lists them.
    if (!sameOffsets(awaiting.offsets, partitions) && !(err && (!partitions || partitions.length === 0))) {
      this.log.debug({ kafkaCode: err?.code, partitions, asked: awaiting.offsets }, 'a commit result for other offsets');
      return;
    }
    this.awaiting = undefined;
    awaiting.settle(err ?? undefined);
  }

  /**
   * Commits each given partition's committable offset that is not committed yet. Resolves true
   * when the broker accepted it (or there was nothing to commit), false when it failed and will
   * be retried; rejects with `SNOOPY_KAFKA_COMMIT` after COMMIT_ATTEMPTS failures in a row.
   */
  commit(trackers: Iterable<PartitionOffsets>): Promise<boolean> {
    const list = [...trackers];
    const run = async (): Promise<boolean> => {
      if (this.running) await this.running.catch(() => {});
      // A commit still running when this one was asked for may have covered some partitions already.
      const dirty = list.filter((t) => t.dirty && !t.retired);
      if (dirty.length === 0) return true;
      const offsets = dirty.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.committable! }));
      const started = performance.now();
      const error = await this.send(offsets);
      this.stats.lastCommitMs = wholeMs(performance.now() - started);
      if (error === undefined || (error as LibrdKafkaError).code === nativeCodes.NO_OFFSET) {
        this.failures = 0;
        this.stats.commits++;
        dirty.forEach((t, i) => (t.committed = offsets[i]!.offset));
        this.log.debug({ offsets }, 'offsets committed');
        return true;
      }
      this.stats.commitErrors++;
      const partitions = offsets.map((o) => o.partition);
      const kafkaCode = (error as LibrdKafkaError).code;
      if (kafkaCode === nativeCodes.ILLEGAL_GENERATION || kafkaCode === nativeCodes.REBALANCE_IN_PROGRESS) {
        // A commit sent while the group rebalances (cooperative rebalances take two rounds): the
        // next commit, with the new generation, carries the same offsets. Counted, not alarming.
        this.log.debug({ partitions, kafkaCode, err: error.message }, 'offset commit refused during a rebalance; retrying with the next commit');
        return false;
      }
      this.failures++;
      if (this.failures >= COMMIT_ATTEMPTS) {
        throw wrapNative('SNOOPY_KAFKA_COMMIT', `Could not commit the offsets of topic ${this.topic} partitions ${partitions.join(', ')} (${this.failures} attempts in a row)`, error, { topic: this.topic });
      }
      this.log.warn(
        { code: 'SNOOPY_KAFKA_COMMIT', partitions, kafkaCode, err: error.message, attempt: this.failures },
        'offset commit failed; retrying with the next commit',
      );
      return false;
    };
    const p = run();
    const tail = p.then(() => {}, () => {});
    this.running = tail;
    void tail.then(() => {
      if (this.running === tail) this.running = undefined;
    });
    return p;
  }

  private send(offsets: TopicPartitionOffset[]): Promise<LibrdKafkaError | Error | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.awaiting?.offsets === offsets) this.awaiting = undefined;
        resolve(new Error(`no commit result within ${RESULT_TIMEOUT_MS} ms`));
      }, RESULT_TIMEOUT_MS);
      timer.unref();
      this.awaiting = {
        offsets,
        settle: (error) => {
          clearTimeout(timer);
          resolve(error);
        },
      };
      try {
        this.native.commit(offsets);
      } catch (error) {
        this.awaiting = undefined;
        clearTimeout(timer);
        resolve(error as LibrdKafkaError);
      }
    });
  }

  /** True while a commit waits for its result. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves once the commit under way (if any) has its result. */
  async settled(): Promise<void> {
    await this.running;
  }
}

/** What a transactional commit needs from its consumer. */
export interface TransactionHost {
  readonly native: NativeConsumer | undefined;
  /** Live partitions (assigned and not retired). */
  live(): Iterable<PartitionOffsets>;
  /** Items handed out and not acknowledged. */
  unackedCount(): number;
  waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean>;
  /** Holds back new items until the returned function is called. */
  hold(): () => void;
}

/**
 * @internal Exactly-once commits: holds back new messages until every message handed out is
 * acknowledged (its outputs are in the open transaction), then commits the output Topic's
 * transaction together with the consumed offsets. Errors reject; the consumer surfaces them.
 */
export class TransactionCommitter {
  private running: Promise<void> | undefined;

  constructor(
    readonly producer: TopicProducer,
    private readonly host: TransactionHost,
    private readonly topic: string,
    private readonly stats: ConsumerStats,
    private readonly log: Logger,
    private readonly drainTimeoutMs: number,
  ) {}

  get busy(): Promise<void> | undefined {
    return this.running;
  }

  /**
   * `final`: closing; `revoking`: partitions are being revoked, so messages still in flight after
   * `timeoutMs` fail the transaction (their outputs would land after the partitions moved).
   * Not drained in time otherwise: tries again later.
   */
  commit(timeoutMs: number, mode: 'tick' | 'revoking' | 'final' = 'tick'): Promise<void> {
    this.running ??= (async () => {
      const release = this.host.hold();
      try {
        if (mode === 'final') {
          // Closing: once the outputs still in flight are delivered (and so acknowledged), what
          // is not acknowledged was never processed. The prefix is then exact unless some
          // partition has acknowledged items past a gap; then abort (all is reprocessed).
          await this.producer.flush(this.drainTimeoutMs);
          await new Promise((resolve) => setImmediate(resolve));
          for (const t of this.host.live()) {
            if (t.ackedBeyondPrefix) {
              this.log.warn({ partition: t.partition }, 'closing with a gap in acknowledged messages: the open transaction is aborted');
              return;
            }
          }
        } else {
          const drained = await this.host.waitUntil(() => this.host.unackedCount() === 0, timeoutMs);
          if (!drained) {
            if (mode !== 'revoking') return;
            throw new KafkaError(
              'SNOOPY_KAFKA_TRANSACTION',
              `Partitions of topic ${this.topic} were revoked while ${this.host.unackedCount()} messages were still in flight after drainTimeoutMs (${timeoutMs} ms); the open transaction is aborted`,
            );
          }
        }
        const trackers = [...this.host.live()].filter((t) => t.dirty && !t.retired);
        const offsets = trackers.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.committable! }));
        if (offsets.length === 0 && this.producer.producedInTransaction === 0) return;
        const started = performance.now();
        await this.producer.commitTransaction(offsets, this.host.native);
        trackers.forEach((t, i) => (t.committed = offsets[i]!.offset));
        if (offsets.length > 0) this.stats.commits++;
        this.stats.lastCommitMs = wholeMs(performance.now() - started);
      } finally {
        this.running = undefined;
        release();
      }
    })();
    return this.running;
  }
}
