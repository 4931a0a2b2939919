import type { KafkaConsumer as NativeConsumer, LibrdKafkaError, TopicPartition, TopicPartitionOffset } from '@confluentinc/kafka-javascript';
import type { Logger } from '@snoopy/core';
import type { ConsumerStats } from './consumer.js';
import { nativeCodes } from './errors.js';
import { PartitionOffsets } from './offsets.js';
import type { ResolvedTopicOptions, StartOffset } from './options.js';

/** What a rebalance needs from its consumer. */
export interface RebalanceHost {
  readonly native: NativeConsumer | undefined;
  readonly disconnecting: boolean;
  /** Live partition trackers by partition. */
  readonly partitions: Map<number, PartitionOffsets>;
  /** A new tracker for a newly assigned partition. */
  track(partition: number): PartitionOffsets;
  /** Stops tracking a partition: later acknowledgements of its items are ignored. */
  retire(tracker: PartitionOffsets): void;
  /** Before partitions go: waits (bounded) for their messages and commits them. */
  settleRevoked(trackers: PartitionOffsets[]): Promise<void>;
  /** Why the membership was lost, when librdkafka said (for example `max.poll.interval.ms`). */
  lostReason(): string | undefined;
  /**
   * Where a partition without a committed offset starts: the consumer's `auto.offset.reset` as a
   * librdkafka logical offset (`resetOffset()`); undefined leaves the reset to librdkafka.
   */
  readonly resetOffset: number | undefined;
  /** True while an offset commit of this consumer waits for the broker's answer. */
  commitsInFlight(): boolean;
}

function nativeOffset(offset: StartOffset): number {
  return offset === 'earliest' ? -2 : offset === 'latest' ? -1 : offset;
}

/** @internal An `auto.offset.reset` value as librdkafka's logical offset; undefined for `error` (or anything else). */
export function resetOffset(value: unknown): number | undefined {
  switch (value) {
    case 'earliest':
    case 'smallest':
    case 'beginning':
      return -2;
    case 'latest':
    case 'largest':
    case 'end':
      return -1;
    default:
      return undefined;
  }
}

/** One partition's start: an offset (absolute or logical) and the leader epoch of a committed one. */
interface Start {
  readonly offset: number;
  readonly leaderEpoch?: number;
}

/**
 * @internal Partition assignment and revocation (librdkafka's `rebalance_cb`), eager or
 * cooperative as the group's protocol says.
 *
 * Where a newly assigned partition starts: the group's committed offset. `offset` applies only
 * where the group has none (`'earliest'`/`'latest'` through librdkafka's `auto.offset.reset`, a
 * number through a `committed()` look-up), so a restarted worker never rewinds. `replay` is the
 * deliberate rewind: it applies on this Topic's first assignment of a partition whatever was
 * committed. Neither applies again on later rebalances.
 *
 * Partitions are assigned at explicit positions, looked up here with the same request librdkafka
 * would make (`committed()`, which waits for offsets of open transactions as librdkafka's own
 * look-up does). Left without one, librdkafka looks the commit up itself and, where there is
 * none, resets the partition in a second step: a fresh group then got its first message ~100 ms
 * later (~210 against ~110 ms on the local broker; BENCHMARKS.md). Like librdkafka, the look-up
 * is not trusted while a commit of this consumer is in flight (after a lost membership, say):
 * it could read the offsets from before that commit, so those partitions are left to librdkafka,
 * which waits for the commit first.
 */
export class Rebalancer {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: RebalanceHost,
    private readonly topic: string,
    private readonly options: ResolvedTopicOptions<unknown, unknown>,
    private readonly stats: ConsumerStats,
    private readonly log: Logger,
    /** Partitions this Topic has been assigned before (shared by its consumers). */
    private readonly seen: Set<number>,
    private readonly fail: (error: unknown) => void,
  ) {}

  /** librdkafka's rebalance callback: handled in order, one at a time. */
  readonly callback = (err: LibrdKafkaError, assignment: TopicPartition[]): void => {
    this.chain = this.chain.then(() => this.rebalance(err, assignment)).catch((error: unknown) => this.fail(error));
  };

  /** Resolves once the rebalances under way are handled. */
  settled(): Promise<void> {
    return this.chain;
  }

  private cooperative(native: NativeConsumer): boolean {
    try {
      return (native as unknown as { rebalanceProtocol(): string }).rebalanceProtocol() === 'COOPERATIVE';
    } catch {
      return false;
    }
  }

  private async rebalance(err: LibrdKafkaError | undefined, assignment: TopicPartition[]): Promise<void> {
    const native = this.host.native;
    if (native === undefined) return;
    if (err?.code === nativeCodes.ASSIGN_PARTITIONS) return this.assign(native, assignment);
    if (err?.code === nativeCodes.REVOKE_PARTITIONS) return this.revoke(native, assignment);
    this.log.warn({ err: err?.message, kafkaCode: err?.code }, 'rebalance error');
  }

  /**
   * The start of each newly assigned partition (see the class comment): `replay` on its first
   * assignment; else the group's committed offset; else a numeric `offset` on its first
   * assignment, else `auto.offset.reset` (which `offset: 'earliest' | 'latest'` sets). Where the
   * look-up fails (or a partition's answer is an error), the partition is left to librdkafka,
   * which looks the commit up again: it never starts before the group's commit.
   */
  private async startOffsets(native: NativeConsumer, assignment: TopicPartition[]): Promise<Array<TopicPartition | TopicPartitionOffset>> {
    const { replay, offset } = this.options;
    const first = new Set<number>();
    for (const tp of assignment) if (!this.seen.has(tp.partition)) first.add(tp.partition);
    for (const tp of assignment) this.seen.add(tp.partition);
    const starts = new Map<number, Start>();
    if (replay !== undefined) for (const partition of first) starts.set(partition, { offset: nativeOffset(replay) });
    // With a commit in flight, only a numeric `offset` on a first assignment uses the look-up: no
    // commit of this Topic can be in flight for a partition it never had.
    const settled = !this.host.commitsInFlight();
    const ask = assignment.filter((tp) => !starts.has(tp.partition) && (settled || (typeof offset === 'number' && first.has(tp.partition))));
    if (ask.length > 0) {
      const committed = await new Promise<ReadonlyArray<TopicPartitionOffset | Error>>((resolve, reject) =>
        native.committed(ask.map((tp) => ({ topic: tp.topic, partition: tp.partition })), this.options.connectTimeoutMs, (e, list) => (e ? reject(e) : resolve(list))),
      ).catch((error: unknown) => {
        if (typeof offset === 'number' && ask.some((tp) => first.has(tp.partition))) {
          // Without the answer, starting at `offset` could rewind: start at the commit (or auto.offset.reset).
          this.log.warn({ err: (error as Error).message }, 'could not read the committed offsets; `offset` is not applied');
        } else {
          this.log.debug({ err: (error as Error).message }, 'could not read the committed offsets; librdkafka looks them up');
        }
        return [];
      });
      ask.forEach((tp, i) => {
        // The binding answers in the order asked; a partition's error comes as an Error in its place.
        const c = committed[i];
        if (c === undefined || c instanceof Error || c.partition !== tp.partition) return;
        if (c.offset !== undefined && c.offset >= 0) {
          if (settled) starts.set(tp.partition, c.leaderEpoch === undefined ? { offset: c.offset } : { offset: c.offset, leaderEpoch: c.leaderEpoch });
          return;
        }
        const start = typeof offset === 'number' && first.has(tp.partition) ? offset : settled ? this.host.resetOffset : undefined;
        if (start !== undefined) starts.set(tp.partition, { offset: start });
      });
    }
    return assignment.map((tp) => {
      const start = starts.get(tp.partition);
      return start === undefined ? { topic: tp.topic, partition: tp.partition } : { topic: tp.topic, partition: tp.partition, ...start };
    });
  }

  private async assign(native: NativeConsumer, assignment: TopicPartition[]): Promise<void> {
    for (const tp of assignment) {
      const existing = this.host.partitions.get(tp.partition);
      if (existing) this.host.retire(existing);
      this.host.track(tp.partition);
      this.stats.assigned++;
    }
    const list = await this.startOffsets(native, assignment);
    this.log.info({ partitions: assignment.map((tp) => tp.partition) }, 'partitions assigned');
    try {
      if (this.cooperative(native)) (native as unknown as { incrementalAssign(a: unknown[]): void }).incrementalAssign(list);
      else native.assign(list);
    } catch (error) {
      if (!this.host.disconnecting) this.log.warn({ err: (error as Error).message }, 'assign failed');
    }
  }

  private async revoke(native: NativeConsumer, assignment: TopicPartition[]): Promise<void> {
    let lost = false;
    try {
      lost = (native as unknown as { assignmentLost(): boolean }).assignmentLost();
    } catch {
      // Not connected any more (closing): nothing was lost that close() does not handle.
    }
    const trackers = assignment.map((tp) => this.host.partitions.get(tp.partition)).filter((t): t is PartitionOffsets => t !== undefined);
    for (const t of trackers) t.revoking = true;
    if (lost) {
      // Another member may own them already: committing now could move its offsets.
      this.log.warn(
        { partitions: assignment.map((tp) => tp.partition), unacked: trackers.reduce((n, t) => n + t.inFlight, 0), reason: this.host.lostReason() ?? 'session timed out or the member was fenced' },
        'group membership lost: partitions revoked without a commit; their unacknowledged messages run again on their next owner',
      );
    } else if (!this.host.disconnecting) {
      // A failure here (a transaction that cannot commit) ends the consumer; the partitions are
      // still handed back so that the group can go on.
      await this.host.settleRevoked(trackers).catch((error: unknown) => this.fail(error));
    }
    for (const t of trackers) this.host.retire(t);
    this.stats.revoked += trackers.length;
    if (!lost) this.log.info({ partitions: assignment.map((tp) => tp.partition) }, 'partitions revoked');
    try {
      if (this.cooperative(native)) (native as unknown as { incrementalUnassign(a: unknown[]): void }).incrementalUnassign(assignment);
      else native.unassign();
    } catch (error) {
      if (!this.host.disconnecting) this.log.warn({ err: (error as Error).message }, 'unassign failed');
    }
  }
}
