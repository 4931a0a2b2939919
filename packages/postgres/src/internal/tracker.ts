interface Entry<P> {
  readonly position: P;
  done: boolean;
}

/**
 * @internal Positions handed out in order, acknowledged in any order. `committable` is the
 * position of the last item of the longest acknowledged prefix, so a checkpoint never covers an
 * item that is not done (the same rule as Kafka's contiguous-prefix commits).
 */
export class PrefixTracker<P> {
  /** Items not yet part of the acknowledged prefix, oldest first, from `head`. */
  private entries: Entry<P>[] = [];
  private head = 0;
  /** Outstanding entries by item identity; an array (FIFO) only when equal items are outstanding. */
  private readonly byItem = new Map<unknown, Entry<P> | Entry<P>[]>();
  /** Position of the last item of the acknowledged prefix; undefined until one is done. */
  committable: P | undefined;

  /** Starts tracking `item`, which resumes at `position` once it and every earlier item are done. */
  track(item: unknown, position: P): void {
    const entry: Entry<P> = { position, done: false };
    this.entries.push(entry);
    const same = this.byItem.get(item);
    if (same === undefined) this.byItem.set(item, entry);
    else if (Array.isArray(same)) same.push(entry);
    else this.byItem.set(item, [same, entry]);
  }

  /** Marks `item` done; false for an item that is not tracked (or was acknowledged already). */
  ack(item: unknown): boolean {
    const same = this.byItem.get(item);
    if (same === undefined) return false;
    let entry: Entry<P>;
    if (Array.isArray(same)) {
      entry = same.shift()!;
      if (same.length === 1) this.byItem.set(item, same[0]!);
    } else {
      entry = same;
      this.byItem.delete(item);
    }
    entry.done = true;
    let head = this.head;
    const entries = this.entries;
    while (head < entries.length && entries[head]!.done) {
      this.committable = entries[head]!.position;
      head++;
    }
    if (head === entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (head > 1024 && head * 2 > entries.length) {
      this.entries = entries.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
    return true;
  }

  /** Items handed out and not yet part of the acknowledged prefix. */
  get inFlight(): number {
    return this.entries.length - this.head;
  }
}
