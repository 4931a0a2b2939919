/**
 * Admission: how much of a snap's work may be under way at once, and the waits for room.
 *
 * One counter per layer: `inflight` counts jobs between the start of their handler and the end
 * of their emission (retries included), bounded by `concurrency`; `outstanding` counts jobs that
 * finished emitting but wait on deferred sinks (or on a late retry, or a dead-letter sink),
 * bounded by `maxPending`. A pump pulls a new item only while both are under their limits.
 */
export class Admission {
  inflight = 0;
  outstanding = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxPending: number,
  ) {}

  hasCapacity(): boolean {
    return this.inflight < this.concurrency && this.outstanding < this.maxPending;
  }

  get empty(): boolean {
    return this.inflight === 0 && this.outstanding === 0;
  }

  /** Resolves at the next change (a job left a layer, or the stream stops). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** Wakes everyone waiting on `changed()`. */
  wake(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
