import type { ResolvedErrorPolicy } from '../options.js';
import type { Job, Stage, StageFailure } from './job.js';

/** The error code of a message that failed in each stage. */
export const stageCodes = {
  handler: 'SNOOPY_SNAP_HANDLER',
  sink: 'SNOOPY_SNAP_SINK',
  source: 'SNOOPY_SOURCE_ITEM',
} as const satisfies Record<Stage, string>;

/**
 * An error says whether trying again may help through a boolean `retriable` (every SnoopyError
 * does, from the table of codes: an encode error is not, a produce error is). Errors that do not
 * say (a plain Error thrown by a handler) may be retried.
 */
export function isRetriable(error: unknown): boolean {
  return (error as { retriable?: unknown } | null)?.retriable !== false;
}

/**
 * The decisions of a snap's error policy. Whether a failed attempt is tried again: only under a
 * retry policy with attempts left, never for an item its source could not deliver, never for an
 * error that says it is not retriable. What happens to a message that gives up (skip, dead
 * letter, stop) is carried out by the runner.
 */
export class ErrorPolicy {
  constructor(readonly resolved: ResolvedErrorPolicy) {}

  get kind(): ResolvedErrorPolicy['kind'] {
    return this.resolved.kind;
  }

  /** Outputs must be kept so that a failed sink can be retried without the handler. */
  get retries(): boolean {
    return this.resolved.kind === 'retry' && this.resolved.attempts > 1;
  }

  canRetry(job: Job, failure: StageFailure): boolean {
    return this.resolved.kind === 'retry' && job.attempt < this.resolved.attempts && failure.stage !== 'source' && isRetriable(failure.error);
  }

  /** Wait before attempt `attempt + 1`: `backoffMs`, doubling each time. */
  delayMs(attempt: number): number {
    return this.resolved.backoffMs * 2 ** (attempt - 1);
  }
}

/**
 * Waits `ms`, or less if `signal` aborts first; resolves true when the wait ran to its end. The
 * timer is cleared on abort, so a stopped stream leaves no retry timer behind.
 */
export function backoff(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
