/**
 * @internal Which offsets of one partition are safe to commit. Offsets are tracked in the order
 * they were handed out (strictly increasing); acknowledgements arrive in any order. The committable
 * offset is the one after the longest prefix of acknowledged offsets, so a commit never covers a
 * message that is not done.
 */
export class PartitionOffsets {
  /** Offsets handed out and not yet retired, oldest first, from `head`. */
  private offsets: number[] = [];
  private head = 0;
  private readonly acked = new Set<number>();
  /** Highest offset handed out so far, or -1. */
  last = -1;
  /** Next offset to commit: one past the contiguous acknowledged prefix. */
  committable: number | undefined;
  /** Last offset committed (or sent to a transaction) for this partition. */
  committed: number | undefined;
  /** Set when the partition was revoked or its consumer closed: later acks are ignored. */
  retired = false;
  /** Set while the partition is being revoked: nothing more of it is handed out. */
  revoking = false;
  /** Set while the partition is paused because it holds `maxUnackedPerPartition` unacknowledged offsets. */
  capped = false;
  /** Set while the fetcher has the partition paused (capped, or the read-ahead buffer is full). */
  paused = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Hears of every acknowledgement that counts, with how many offsets left the in-flight window. */
    readonly listener?: { acked(tracker: PartitionOffsets, settled: number): void },
  ) {}

  /** Starts tracking `offset`; false when it is not after the last one (a stale redelivery). */
  track(offset: number): boolean {
    if (offset <= this.last) return false;
    this.last = offset;
    this.offsets.push(offset);
    return true;
  }

  /**
   * Marks `offset` done (the one call an item's acknowledgement makes); returns true when the
   * committable offset moved. Acknowledgements of a retired (revoked, closed) partition are ignored.
   */
  ack(offset: number): boolean {
    if (this.retired) return false;
    const before = this.offsets.length - this.head;
    const moved = this.settle(offset);
    this.listener?.acked(this, before - (this.offsets.length - this.head));
    return moved;
  }

  private settle(offset: number): boolean {
    const offsets = this.offsets;
    if (offsets[this.head] !== offset) {
      this.acked.add(offset);
      return false;
    }
    let head = this.head + 1;
    let next = offset + 1;
    while (head < offsets.length && this.acked.size > 0 && this.acked.delete(offsets[head]!)) {
      next = offsets[head]! + 1;
      head++;
    }
    this.committable = next;
    if (head === offsets.length) {
      this.offsets = [];
      this.head = 0;
    } else if (head > 4096 && head * 2 > offsets.length) {
      this.offsets = offsets.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
    return true;
  }

  /** Messages handed out and not yet part of the committable prefix. */
  get inFlight(): number {
    return this.offsets.length - this.head;
  }

  /** True when some offsets after the committable prefix are acknowledged already. */
  get ackedBeyondPrefix(): boolean {
    return this.acked.size > 0;
  }

  /** True when there is an offset to commit that was not committed yet. */
  get dirty(): boolean {
    return this.committable !== undefined && this.committable !== this.committed;
  }
}
