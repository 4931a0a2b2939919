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
}

function nativeOffset(offset: StartOffset): number {
  return offset === 'earliest' ? -2 : offset === 'latest' ? -1 : offset;
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

  /** The start offsets of newly assigned partitions: see the class comment. */
  private async startOffsets(native: NativeConsumer, assignment: TopicPartition[]): Promise<TopicPartitionOffset[] | TopicPartition[]> {
    const { replay, offset } = this.options;
    const first = assignment.filter((tp) => !this.seen.has(tp.partition));
    for (const tp of assignment) this.seen.add(tp.partition);
    const starts = new Map<number, number>();
    if (replay !== undefined) {
      for (const tp of first) starts.set(tp.partition, nativeOffset(replay));
    } else if (typeof offset === 'number' && first.length > 0) {
      const committed = await new Promise<TopicPartitionOffset[]>((resolve, reject) =>
        native.committed(first.map((tp) => ({ topic: tp.topic, partition: tp.partition })), this.options.connectTimeoutMs, (e, list) => (e ? reject(e) : resolve(list))),
      ).catch((error: unknown) => {
        // Without the answer, starting at `offset` could rewind: start at the commit (or auto.offset.reset).
        this.log.warn({ err: (error as Error).message }, 'could not read the committed offsets; `offset` is not applied');
        return first.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: 0 }));
      });
      for (const c of committed) if (c.offset === undefined || c.offset < 0) starts.set(c.partition, offset);
    }
    return assignment.map((tp) => {
      const start = starts.get(tp.partition);
      return start === undefined ? { topic: tp.topic, partition: tp.partition } : { topic: tp.topic, partition: tp.partition, offset: start };
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
