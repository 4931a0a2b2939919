import type { SnoopyError } from './errors.js';
import type { MessageMeta } from './protocol.js';

/**
 * What a snap's dead-letter sink receives for a message that failed every attempt: the message
 * (or what its source received, for items it could not deliver), the final error (a `SnapError`
 * naming the snap and where the message came from) and how often it was tried.
 */
export class DeadLetter<T = unknown> {
  constructor(
    readonly snap: string,
    readonly message: T,
    readonly error: SnoopyError,
    readonly attempts: number,
    readonly meta: MessageMeta,
    /** The source's raw form of the message (bytes), when the source could not decode it. */
    readonly raw?: unknown,
  ) {}

  /** A JSON-friendly form, for sinks that serialize (a JSON topic, a log). */
  toJSON(): Record<string, unknown> {
    const e = this.error;
    return {
      snap: this.snap,
      message: this.message,
      attempts: this.attempts,
      meta: this.meta,
      error: { name: e.name, code: e.code, message: e.message, cause: e.cause instanceof Error ? e.cause.message : e.cause },
    };
  }
}
