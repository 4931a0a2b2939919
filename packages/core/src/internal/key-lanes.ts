import type { Job } from './job.js';

/** The jobs of one key, oldest first; only the head may emit. */
export interface Lane {
  readonly key: unknown;
  head: Job;
  tail: Job;
}

/** The key of the single lane used when messages carry no key (and for batches). */
export const noKey: unique symbol = Symbol('no key');

/**
 * Key lanes: ordering under concurrency. Handlers of different messages overlap, but a job emits
 * to the sinks only at the head of its key's lane, so outputs keep input order per key (or
 * overall when the source describes no keys). A job that is retried stays at the head of its
 * lane while it waits, so the messages after it wait too. Lanes are linked lists through
 * `Job.next`: no allocation per message beyond a lane per active key.
 */
export class KeyLanes {
  private readonly lanes = new Map<unknown, Lane>();

  /** The lane key of a message key (Buffers compare by content). */
  static keyOf(key: unknown): unknown {
    if (key === undefined || key === null) return noKey;
    return Buffer.isBuffer(key) ? `b:${key.toString('hex')}` : key;
  }

  /** Appends `job` to its key's lane and returns the lane. */
  add(key: unknown, job: Job): Lane {
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = { key, head: job, tail: job };
      this.lanes.set(key, lane);
    } else {
      lane.tail.next = job;
      lane.tail = job;
    }
    return lane;
  }

  /** Removes the head of `lane`; returns the new head, or null when the lane is now empty (and gone). */
  shift(lane: Lane): Job | null {
    const next = lane.head.next;
    lane.head.next = null;
    if (next === null) {
      if (this.lanes.get(lane.key) === lane) this.lanes.delete(lane.key);
      return null;
    }
    lane.head = next;
    return next;
  }
}
